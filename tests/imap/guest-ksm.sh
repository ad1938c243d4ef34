#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside a test guest (scripts/guest-run.sh SERIES this KO): turn KSM
# on, load ksmgroup.ko, and run guest_ksm.py (dboxd's workers in the merge
# group, template vs exec). Writes unnumbered TAP to
# $GUEST_RESULTS/imap-ksm.tap; tests/suites/imap.sh numbers it.
set -uo pipefail
ko=$1
results=${GUEST_RESULTS:?not running under scripts/guest-run.sh}
tap=$results/imap-ksm.tap
here=$(cd "$(dirname "$0")" && pwd)
: >"$tap"
k=/sys/kernel/mm/ksm
if [[ -d $k ]]; then
	echo 2000 >$k/pages_to_scan
	echo 10 >$k/sleep_millisecs
	echo 1 >$k/run
	echo "ok - KSM running" >>"$tap"
else
	echo "not ok - KSM running (no $k)" >>"$tap"
fi
if insmod "$ko"; then
	echo "ok - insmod ${ko##*/}" >>"$tap"
else
	echo "not ok - insmod ${ko##*/}" >>"$tap"
fi
/usr/bin/python3 "$here/guest_ksm.py" >>"$tap" 2>"$results/imap-ksm.err"
echo "# guest_ksm.py exit status $?" >>"$tap"
rmmod ksmgroup 2>/dev/null
exit 0
