#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside a test guest (scripts/guest-run.sh): loads the module, puts
# ksmd at Debian's defaults and runs ksmg-prio in each mode, interleaved,
# REPS times. Prints ksmg-prio's result lines.
#
# usage: prio-guest.sh MODULE PRIO_BINARY REPS [ksmg-prio options...]
set -euo pipefail
module=$1 prio=$2 reps=$3
shift 3

insmod "$module"
ksm=/sys/kernel/mm/ksm
echo 100 >$ksm/pages_to_scan
echo 20 >$ksm/sleep_millisecs
echo 1 >$ksm/run

for ((r = 1; r <= reps; r++)); do
	for mode in madvise module governed; do
		"$prio" --mode "$mode" "$@" || echo "mode=$mode failed"
		# Let ksmd drop what the run left before the next one.
		echo 2 >$ksm/run
		while [[ $(cat $ksm/pages_shared) != 0 ]]; do sleep 0.2; done
		echo 1 >$ksm/run
	done
done
rmmod ksmgroup
