#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lint suite: checkpatch --strict over the module sources, and sparse
# (kbuild C=2) against each kernel's headers. One TAP line per check (per
# kernel for sparse) in build/results/lint.tap; logs in build/results/lint-*.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/common.sh

results=$KSMG_BUILD/results
mkdir -p "$results"
series_list=${KSMG_SERIES:-$KSMG_SERIES_ALL}

lines() {
	if [[ ! -f ${KSMG_KMOD_SRC:-kmod}/Kbuild ]]; then
		echo "not ok - lint: module source missing (${KSMG_KMOD_SRC:-kmod}/Kbuild)"
		return 0
	fi
	local log=$results/lint-checkpatch.log s
	if scripts/checkpatch.sh >"$log" 2>&1; then
		echo "ok - lint: checkpatch --strict on kmod/"
	else
		echo "not ok - lint: checkpatch --strict on kmod/ (log: build/results/lint-checkpatch.log)"
		grep -E ': (ERROR|WARNING|CHECK):' "$log" | head -n 40 | sed 's/^/# /' || true
	fi
	scripts/kernels.sh $series_list >/dev/null 2>&1 || ksmg_die "cannot prepare the kernel headers"
	for s in $series_list; do
		log=$results/lint-sparse-$s.log
		if scripts/sparse.sh "$s" >"$log" 2>&1; then
			echo "ok - lint: sparse on kmod/ against $s"
		else
			echo "not ok - lint: sparse on kmod/ against $s (log: build/results/lint-sparse-$s.log)"
			grep -E ': (warning|error):|error:' "$log" | head -n 40 | sed 's/^/# /' || true
		fi
	done
}

lines >"$results/lint.lines"
scripts/tap-number.sh <"$results/lint.lines" >"$results/lint.tap"
rm -f "$results/lint.lines"
cat "$results/lint.tap"
