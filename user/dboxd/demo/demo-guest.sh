#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the demo guest (run-demo.sh): KSM on, ksmgroup.ko loaded,
# dboxd serving demo users on ports 143 and 993 with a generated mailbox,
# the merge group's figures printed every 30 seconds. Runs until the guest
# is stopped.
set -uo pipefail
ko=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
dboxd=$top/build/user/dboxd/dboxd
demo=/tmp/dboxd-demo
results=${GUEST_RESULTS:-/tmp}

mkdir -p "$demo/home" "$demo/run"
chmod 755 "$demo" "$demo/home"
k=/sys/kernel/mm/ksm
echo 1000 >$k/pages_to_scan
echo 20 >$k/sleep_millisecs
echo 1 >$k/run
insmod "$ko" || echo "demo: insmod $ko failed: workers will use prctl"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$demo/key.pem" \
	-out "$demo/cert.pem" -days 30 -subj /CN=localhost 2>/dev/null
uid=2001
: >"$demo/passwd"
for u in alice bob carol dave; do
	mkdir -p "$demo/home/$u"
	chown $uid:$uid "$demo/home/$u"
	chmod 700 "$demo/home/$u"
	echo "$u:{PLAIN}demo:$uid:$uid::$demo/home/$u::" >>"$demo/passwd"
	uid=$((uid + 1))
done
cat >"$demo/dboxd.conf" <<EOT
base_dir = $demo/run
imap_listen = *:143
imaps_listen = *:993
lmtp_listen = 127.0.0.1:24
ssl_cert = $demo/cert.pem
ssl_key = $demo/key.pem
passwd_file = $demo/passwd
login_user = 1990:1990
auth_user = 1991:1991
first_valid_uid = 2000
disable_plaintext_auth = no
worker_linger = 5min
log_level = info
EOT
"$dboxd" -c "$demo/dboxd.conf" >"$results/dboxd.log" 2>&1 &
for _ in $(seq 50); do
	/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', 24), 1)" 2>/dev/null && break
	sleep 0.2
done
/usr/bin/python3 "$here/demo-mail.py" 127.0.0.1:24 alice bob carol dave \
	--count "${DEMO_MESSAGES:-400}"
cat <<EOT

  dboxd is serving the demo mailboxes.
    IMAP:  127.0.0.1:10143 (STARTTLS or plain)    IMAPS: 127.0.0.1:10993
    users: alice bob carol dave     password: demo
    e.g.   curl imap://127.0.0.1:10143/INBOX -u alice:demo
           mutt -f imaps://alice@127.0.0.1:10993/   (self-signed certificate)
  The merge group's figures follow every 30 s (/sys/kernel/ksmgroup/*/ in
  the guest). Stop with Ctrl-C.

EOT
while :; do
	for d in /sys/kernel/ksmgroup/*/; do
		[[ -f $d/name ]] || continue
		printf 'group %s: members %s merging_pages %s anon_pages %s profit %s\n' \
			"$(cat "$d/name")" "$(cat "$d/members")" \
			"$(cat "$d/merging_pages")" "$(cat "$d/anon_pages")" \
			"$(cat "$d/profit")"
	done
	sleep 30
done
