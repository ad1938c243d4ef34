#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build and run the dbox benchmark (make bench; never part of make check).
#   bash bench/dbox/run.sh [dbox-bench options]   e.g. -n 2000 -f mdbox
# Output also goes to build/results/bench-dbox.txt. Cold-cache rows drop
# the page cache of the whole machine (root only).

set -eu
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TOP=$PWD
OUT=$TOP/build/bench/dbox
LIB=$TOP/build/user/dbox

make -C user/dbox -j2 lib "$LIB/obj/tests/tap.o" >/dev/null
mkdir -p "$OUT" "$TOP/build/results"
cc -std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE \
	-I"$TOP/user/dbox" -o "$OUT/dbox-bench" bench/dbox/dbox-bench.c \
	"$LIB/obj/tests/tap.o" "$LIB/libdbox.a" -llmdb -luring
rm -rf "$OUT/work"
mkdir -p "$OUT/work"
"$OUT/dbox-bench" "$@" "$OUT/work" | tee "$TOP/build/results/bench-dbox.txt"
rm -rf "$OUT/work"
