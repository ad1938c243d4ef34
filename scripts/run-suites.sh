#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run test suite scripts one after another (each writes its TAP into
# build/results/), then summarise. A suite's output goes to the terminal
# and to build/results/NAME.log; a suite that exits non-zero counts as a
# failure in the summary.
#
# usage: scripts/run-suites.sh tests/suites/NAME.sh...
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$KSMG_ROOT"

results=$KSMG_BUILD/results
mkdir -p "$results"
# Only this run's results count.
rm -f "$results"/*.tap "$results/suites.status"
: >"$results/suites.status"

for suite in "$@"; do
	name=$(basename "$suite" .sh)
	echo "=== suite $name"
	start=$SECONDS
	set +e
	bash "$suite" 2>&1 | tee "$results/$name.log"
	rc=${PIPESTATUS[0]}
	set -e
	echo "=== suite $name: exit status $rc, $((SECONDS - start)) s"
	echo "$name $rc" >>"$results/suites.status"
done

echo "=== summary"
shopt -s nullglob
exec "$KSMG_ROOT/scripts/tap-summary.sh" --status "$results/suites.status" "$results"/*.tap
