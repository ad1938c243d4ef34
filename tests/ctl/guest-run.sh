#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest part of the ctl suite: for each kernel series, build the module
# (scripts/module-build.sh), boot the series with scripts/guest-run.sh and
# run tests/ctl/guest-tests.sh there; write build/results/ctl-guest-SERIES.tap.
# The series run one after another: the tests time exec-to-attach latency
# and ksmd's CPU share, which two TCG guests on two cores would distort.
#
# usage: tests/ctl/guest-run.sh [SERIES...]   (default: 6.1 6.12)
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/common.sh

series_list=${*:-$KSMG_SERIES_ALL}
results=$KSMG_BUILD/results
mkdir -p "$results"

# write_tap SERIES: number result lines from stdin into ctl-guest-SERIES.tap.
write_tap() { scripts/tap-number.sh >"$results/ctl-guest-$1.tap"; }

if ! scripts/kernels.sh $series_list >"$results/ctl-guest-kernels.log" 2>&1; then
	for s in $series_list; do
		echo "not ok - $s: guest kernels prepared (build/results/ctl-guest-kernels.log)" | write_tap "$s"
	done
	exit 0
fi

for s in $series_list; do
	gdir=$results/ctl-guest-$s
	mkdir -p "$gdir"
	rm -f "$gdir/ctl.tap"
	lines=()
	if ! ko=$(scripts/module-build.sh "$s" 2>"$gdir/module-build.log"); then
		echo "not ok - $s: module built (build/results/ctl-guest-$s/module-build.log)" | write_tap "$s"
		continue
	fi
	set +e
	GUEST_RESULTS=$gdir GUEST_TIMEOUT=${CTL_GUEST_TIMEOUT:-900} \
		scripts/guest-run.sh "$s" tests/ctl/guest-tests.sh "$ko" "$gdir" >"$gdir/guest-run.log" 2>&1
	rc=$?
	why=$(cat "$gdir/failure" 2>/dev/null || true)
	case $rc in
	0) ;;
	126) lines+=("not ok - $s: no kernel problems on the guest console (see build/results/ctl-guest-$s/kernel-problems.txt)")
	     lines+=("$(head -n 5 "$gdir/kernel-problems.txt" | sed 's/^/# /')") ;;
	*) lines+=("not ok - $s: the guest ran the tests to the end (guest-run status $rc${why:+: $why}; build/results/ctl-guest-$s/guest-run.log)") ;;
	esac
	{
		if [[ -f $gdir/ctl-work/results ]]; then
			cat "$gdir/ctl-work/results"
		else
			echo "not ok - $s: the guest tests wrote results"
		fi
		printf '%s\n' "${lines[@]}"
	} | write_tap "$s"
	echo "ctl-guest-$s: $(grep -c '^ok' "$results/ctl-guest-$s.tap") ok, $(grep -c '^not ok' "$results/ctl-guest-$s.tap") not ok (guest status $rc)"
done
exit 0
