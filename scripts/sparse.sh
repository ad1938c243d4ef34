#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Check every module source with sparse (kbuild C=2) against the headers of
# one kernel series. Fails when sparse or the compiler prints any warning
# or error; the full log is build/kmod/SERIES.sparse.log.
#
# usage: scripts/sparse.sh SERIES
set -euo pipefail
. "$(dirname "$0")/common.sh"

(($# == 1)) || ksmg_die "usage: $0 SERIES"
series=$1
command -v sparse >/dev/null || ksmg_die "sparse is missing: install the sparse package"
mkdir -p "$KSMG_BUILD/kmod"
log=$KSMG_BUILD/kmod/$series.sparse.log
if ! "$KSMG_ROOT/scripts/module-build.sh" "$series" C=2 >/dev/null 2>"$log"; then
	cat "$log" >&2
	ksmg_die "$series: the build failed under sparse"
fi
# Name files as in the repo, not as in the per-kernel copy.
if grep -E ': (warning|error):' "$log" | sed "s|$KSMG_BUILD/kmod/$series/||" >&2; then
	ksmg_die "$series: sparse or the compiler warned (log: $log)"
fi
grep -q '  CHECK ' "$log" || ksmg_die "$series: kbuild ran no sparse CHECK (log: $log)"
ksmg_log "$series: sparse clean"
