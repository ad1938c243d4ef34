#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In a guest: run Dovecot with N idle IMAP connections in MODE
#   ksmgroupd  imap processes attached by ksmgroupd, its governor on;
#   fixed      the same attachment, governor off, ksmd fixed at PTS/SLEEP
#              (the peer on 6.1, which has no PR_SET_MEMORY_MERGE);
#   prctl      dovecot's master under PR_SET_MEMORY_MERGE (all its children
#              inherit it), ksmd fixed at PTS/SLEEP;
# sampling KSM figures every 2 s into $GUEST_RESULTS/samples-TAG.csv until
# WINDOW seconds after the client's logins were all done (t=0, see
# sample.py). Connection setup is the same in every mode.
# usage: dovecot-guest.sh MODE N WINDOW [PTS SLEEP]
set -uo pipefail
mode=$1 n=$2 window=$3 pts=${4:-100} slp=${5:-20}
out=$GUEST_RESULTS
ksm=/sys/kernel/mm/ksm
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tag=$mode-$pts-$slp
d=/tmp/dv
mkdir -p $d/home
# Save every knob we touch; restored on exit whatever happens.
declare -A saved
for k in run pages_to_scan sleep_millisecs; do saved[$k]=$(cat $ksm/$k); done
restore() {
	[[ -n ${dpid:-} ]] && kill "$dpid" 2>/dev/null
	[[ -n ${kpid:-} ]] && { kill "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null; }
	for k in pages_to_scan sleep_millisecs run; do echo "${saved[$k]}" > $ksm/$k; done
}
trap restore EXIT

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
ip link set lo up 2>/dev/null
ulimit -n 65536

echo 1 > $ksm/run
ksmdpid=$(pgrep -x ksmd | head -1)

# The bench runs a copy of ksmgroupd taken when the series started, so a
# rebuild in the tree cannot change the daemon between runs of one series.
ksmgroupd=${KSMGD_BIN:-$root/build/user/ksmgroupd/ksmgroupd}
if [[ $mode == ksmgroupd || $mode == fixed ]]; then
	insmod "$root/build/kmod/${GUEST_SERIES}/kmod/ksmgroup.ko" || exit 1
	gov=builtin
	[[ $mode == fixed ]] && gov=off
	cat > $d/ksmgroupd.conf <<CONF
[daemon]
state_file = $d/ksm-settings
[governor]
mode = $gov
cpu_budget = 25%
pages_to_scan_min = 100
pages_to_scan_max = 4000
sleep_millisecs_min = 10
sleep_millisecs_max = 200
[group imap]
match = exe=/usr/lib/dovecot/imap
CONF
	echo "$pts" > $ksm/pages_to_scan; echo "$slp" > $ksm/sleep_millisecs
	"$ksmgroupd" -c $d/ksmgroupd.conf > "$out/ksmgroupd-$tag.log" 2>&1 &
	kpid=$!
	sleep 2
	/usr/sbin/dovecot -F -c $d/dovecot.conf &
	dpid=$!
else
	echo "$pts" > $ksm/pages_to_scan; echo "$slp" > $ksm/sleep_millisecs
	"$root/build/bench/ksmgroupd/mergeable-exec" true || { echo "prctl unavailable" > "$out/result-$tag.txt"; exit 0; }
	"$root/build/bench/ksmgroupd/mergeable-exec" /usr/sbin/dovecot -F -c $d/dovecot.conf &
	dpid=$!
fi
sleep 3
/usr/bin/python3 "$here/imap-hold.py" "$n" "$((window + 60))" > "$out/client-$tag.log" 2>&1 &
cpid=$!
/usr/bin/python3 "$here/sample.py" "$out/samples-$tag.csv" "$out/client-$tag.log" "$window" "$ksmdpid"
free -m > "$out/free-$tag.txt"
grep -E 'MemAvailable|KSM' /proc/meminfo >> "$out/free-$tag.txt" 2>/dev/null
cp $d/dovecot.log "$out/dovecot-$tag.log" 2>/dev/null
uname -r > "$out/kernel.txt"
/usr/sbin/dovecot --version > "$out/dovecot-version.txt" 2>&1
kill $cpid 2>/dev/null
exit 0
