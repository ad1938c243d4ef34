#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run the kernel's checkpatch.pl --strict over the module's sources (from
# linux-source-6.12, never copied into the repo). Any error, warning or
# check makes it exit non-zero.
#
# usage: scripts/checkpatch.sh [FILE...]   (default kmod/*.c kmod/*.h kmod/uapi/*.h;
# KSMG_KMOD_SRC names another module dir)
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$KSMG_ROOT"

"$KSMG_ROOT/scripts/linux-src.sh"
cp=$KSMG_BUILD/linux-src/scripts/checkpatch.pl
[[ -f $cp ]] || ksmg_die "$cp missing"
if (($# == 0)); then
	shopt -s nullglob
	src=${KSMG_KMOD_SRC:-kmod}
	set -- "$src"/*.c "$src"/*.h "$src"/uapi/*.h
fi
(($#)) || ksmg_die "no file to check under kmod/"
perl "$cp" --strict --no-tree --show-types --terse -f "$@"
