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

. scripts/tap-merge.sh
for t in $UNIT_TESTS; do
	for backend in sync uring; do
		tap_run "$t[$backend]" env DBOX_IO_BACKEND=$backend "$BUILD/tests/$t"
	done
done
tap_run test-crash env DBOX_CRASH_ITERATIONS=${DBOX_CRASH_ITERATIONS:-200} \
	"$BUILD/tests/test-crash"
tap_run test-interop bash user/dbox/tests/test-interop.sh "$BUILD"
tap_end dbox
exit 0
