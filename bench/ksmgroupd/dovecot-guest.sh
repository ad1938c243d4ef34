#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In a guest: run Dovecot with N idle IMAP connections in MODE
#   ksmgroupd  imap processes attached by ksmgroupd, its governor on;
#   fixed      the same attachment, governor off, ksmd fixed at PTS/SLEEP
#              (the peer on 6.1, which has no PR_SET_MEMORY_MERGE);
#   prctl      dovecot's master under PR_SET_MEMORY_MERGE (all its children
#              inherit it), ksmd fixed at PTS/SLEEP;
# and measure it as guest-lib.sh's gl_measure does (KSM figures every 2 s
# until WINDOW seconds after the logins, then the server's memory).
# Connection setup is the same in every mode.
# usage: dovecot-guest.sh MODE N WINDOW [PTS SLEEP]
set -uo pipefail
mode=$1 n=$2 window=$3 pts=${4:-100} slp=${5:-20}
. "$(dirname "$0")/guest-lib.sh"
tag=$mode-$pts-$slp
d=/tmp/dv
mkdir -p $d/home
: > $d/passwd
for ((i = 1; i <= n; i++)); do
	echo "u$i:{PLAIN}p$i:65534:65534::$d/home/u$i" >> $d/passwd
	mkdir -p $d/home/u$i
done
chown -R 65534:65534 $d/home
cat > $d/dovecot.conf <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = sdbox:~/mail
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = $d/passwd
}
userdb {
  driver = passwd-file
  args = $d/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = 143
  }
  inet_listener imaps {
    port = 0
  }
  process_limit = $((n + 50))
}
service imap {
  process_limit = $((n + 50))
}
default_process_limit = $((n + 50))
default_client_limit = $((n * 2 + 100))
CONF
gl_begin "$tag"
stop_dovecot() { [[ -n ${dpid:-} ]] && kill "$dpid" 2>/dev/null; }
gl_on_exit=stop_dovecot

gl_ksmd_fixed "$pts" "$slp"
if [[ $mode == ksmgroupd || $mode == fixed ]]; then
	gl_insmod || exit 1
	gl_ksmgroupd "$([[ $mode == fixed ]] && echo off || echo builtin)" \
		exe=/usr/lib/dovecot/imap || exit 1
	/usr/sbin/dovecot -F -c $d/dovecot.conf &
	dpid=$!
else
	"$gl_root/build/bench/ksmgroupd/mergeable-exec" true || { echo "prctl unavailable" > "$gl_out/result-$tag.txt"; exit 0; }
	"$gl_root/build/bench/ksmgroupd/mergeable-exec" /usr/sbin/dovecot -F -c $d/dovecot.conf &
	dpid=$!
fi
sleep 3
gl_measure "$dpid" imap "$n" "$window"
cp $d/dovecot.log "$gl_out/dovecot-$tag.log" 2>/dev/null
/usr/sbin/dovecot --version > "$gl_out/dovecot-version.txt" 2>&1
exit 0
