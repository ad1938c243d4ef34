#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The prioritised-scanning benchmark of docs/design.md: for each kernel
# series, boot a guest and time how fast a freshly registered group of
# workers reaches 90 % of its achievable KSM sharing next to 256 MiB of
# unrelated mergeable memory, opting in by madvise (the peer), through the
# module at the same ksmd rate, and through the module with ksmd boosted
# while the group is settling. Prints medians and ratios against madvise.
#
# usage: bench/kmod/run.sh [REPS]   (environment: SERIES="6.1 6.12")
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
out=build/bench/kmod
mkdir -p "$out"
gcc -O2 -Wall -Wextra -Werror -o "$out/ksmg-prio" bench/kmod/ksmg-prio.c

for s in ${SERIES:-6.1 6.12}; do
	scripts/module-build.sh "$s" >/dev/null
	ko=$(ls build/kmod/"$s"/kmod/ksmgroup.ko)
	GUEST_TIMEOUT=5400 GUEST_RESULTS=$PWD/$out/guest-$s \
		scripts/guest-run.sh "$s" bench/kmod/prio-guest.sh \
		"$PWD/$ko" "$PWD/$out/ksmg-prio" "$reps" \
		>"$out/raw-$s.txt" 2>"$out/run-$s.log" &
done
wait

for s in ${SERIES:-6.1 6.12}; do
	echo "== $s"
	grep -h '^mode=' "$out/guest-$s/script.log" | tee "$out/results-$s.txt" |
		python3 bench/kmod/summarise.py
done
