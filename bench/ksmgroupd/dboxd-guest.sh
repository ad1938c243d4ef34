#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In a guest: run dboxd (sdbox, workers forked from the template) with N
# idle IMAP connections, one per user, in MODE
#   ksmgroupd  ksm = group (dboxd puts its workers in its own merge group),
#              ksmgroupd's governor on, with no rule of its own: it
#              governs ksmd for every group on the host, dboxd's included;
#   fixed      ksm = group, no ksmgroupd, ksmd fixed at PTS/SLEEP (the
#              peer on 6.1, which has no PR_SET_MEMORY_MERGE);
#   prctl      ksm = prctl (each worker marks itself, no module), ksmd
#              fixed at PTS/SLEEP;
#   off        ksm = off: nothing merges (the memory without KSM);
# measured as guest-lib.sh's gl_measure does, the same as Dovecot in
# dovecot-guest.sh: the same users, passwords and client.
# usage: dboxd-guest.sh MODE N WINDOW [PTS SLEEP]
# Environment: DBOXD_BIN (run.sh's copy of dboxd).
set -uo pipefail
mode=$1 n=$2 window=$3 pts=${4:-100} slp=${5:-20}
. "$(dirname "$0")/guest-lib.sh"
. "$gl_root/bench/imap/peers/dovecot.sh"	# peer_users, peer_alive
. "$gl_root/bench/imap/peers/dboxd.sh"
tag=$mode-$pts-$slp
d=/tmp/dx
case $mode in
ksmgroupd | fixed) variant=sdbox-group ;;
prctl) variant=sdbox-template ;;
off) variant=sdbox-nomerge ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
mkdir -p $d
for ((i = 1; i <= n; i++)); do echo "u$i p$i"; done > $d/users
gl_begin "$tag"
stop_dboxd() { peer_dboxd stop $d; }
gl_on_exit=stop_dboxd

gl_ksmd_fixed "$pts" "$slp"
if [[ $variant == sdbox-group ]]; then
	gl_insmod || exit 1
	[[ $mode == fixed ]] || gl_ksmgroupd builtin || exit 1
fi
dpid=$(peer_dboxd start $variant 143 $d/mail $d/users $d) || exit 1
sleep 3
gl_measure "$dpid" dboxd "$n" "$window"
cp $d/dboxd.log "$gl_out/dboxd-$tag.log" 2>/dev/null
cat /sys/kernel/ksmgroup/*/name > "$gl_out/groups-$tag.txt" 2>/dev/null
"$DBOXD_BIN" -V > "$gl_out/dboxd-version.txt" 2>&1
exit 0
