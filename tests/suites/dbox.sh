#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The dbox storage library (user/dbox): unit tests run once per I/O backend
# (DBOX_IO_BACKEND=sync and =uring), the SIGKILL crash test, and the
# interoperability test against Dovecot 2.3. All TAP streams are merged,
# renumbered and prefixed with their source into build/results/dbox.tap.
# Exits non-zero only when it could not run (the build failed).

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
TOP=$PWD
RESULTS=$TOP/build/results
BUILD=$TOP/build/user/dbox
TAP=$RESULTS/dbox.tap
LOG=$RESULTS/dbox.log
UNIT_TESTS="test-io test-framing test-names test-index test-ops test-sync
	    test-corrupt test-fallback test-async"

mkdir -p "$RESULTS"
: > "$LOG"
if ! make -C user/dbox -j2 all >>"$LOG" 2>&1; then
	echo "dbox: build failed, see $LOG" >&2
	exit 1
fi

count=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# merge NAME: renumber the TAP in $out under NAME; a missing plan or a
# death by signal becomes a failure of its own
merge() {
	local name=$1 status=$2 line planned=no

	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			count=$((count + 1))
			local verdict=${line%% [0-9]*}
			local rest=${line#"$verdict "}
			rest=${rest#* }		# drop the old number
			rest=${rest#- }
			echo "$verdict $count - $name: $rest" >> "$TAP"
			;;
		"1..0 # SKIP"*)
			planned=yes
			count=$((count + 1))
			echo "ok $count - $name # SKIP ${line#1..0 # SKIP }" >> "$TAP"
			;;
		1..*)
			planned=yes
			;;
		"#"*)
			echo "$line" >> "$TAP"
			;;
		esac
	done < "$out"
	if [[ $planned != yes || $status -gt 128 ]]; then
		count=$((count + 1))
		echo "not ok $count - $name: did not finish (exit $status)" >> "$TAP"
	fi
}

run() {		# run NAME COMMAND...
	local name=$1 status
	shift
	echo "# $name" >> "$LOG"
	"$@" > "$out" 2>> "$LOG"
	status=$?
	merge "$name" "$status"
}

: > "$TAP"
for t in $UNIT_TESTS; do
	for backend in sync uring; do
		run "$t[$backend]" env DBOX_IO_BACKEND=$backend "$BUILD/tests/$t"
	done
done
run test-crash env DBOX_CRASH_ITERATIONS=${DBOX_CRASH_ITERATIONS:-200} \
	"$BUILD/tests/test-crash"
run test-interop bash user/dbox/tests/test-interop.sh "$BUILD"
echo "1..$count" >> "$TAP"

failed=$(grep -c '^not ok' "$TAP")
echo "dbox: $count tests, $failed failed (TAP in $TAP)"
exit 0
