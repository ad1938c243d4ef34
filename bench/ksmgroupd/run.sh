#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Dovecot + N idle IMAP connections in a SERIES guest: ksmgroupd (governor,
# 25 % budget) against prctl(PR_SET_MEMORY_MERGE) with ksmd at fixed
# settings. Raw output in build/bench/ksmgroupd/SERIES/; summary printed.
# usage: bench/ksmgroupd/run.sh [SERIES [N [WINDOW]]]   (default 6.12 200 180)
set -euo pipefail
cd "$(dirname "$0")/../.."
series=${1:-6.12} n=${2:-200} window=${3:-180}
out=$PWD/build/bench/ksmgroupd/$series
mkdir -p "$out" build/bench/ksmgroupd
scripts/module-build.sh "$series" >/dev/null
cc -Wall -Wextra -Werror -O2 -g -o build/bench/ksmgroupd/mergeable-exec bench/ksmgroupd/mergeable-exec.c
for m in "ksmgroupd 100 20" "prctl 100 20" "prctl 4000 10"; do
	set -- $m
	echo "== $series $1 pts=$2 sleep=$3 n=$n window=$window"
	GUEST_RESULTS=$out/$1-$2-$3 GUEST_MEM=${GUEST_MEM:-2048} \
	GUEST_TIMEOUT=$((window + 600)) \
		scripts/guest-run.sh "$series" bench/ksmgroupd/dovecot-guest.sh "$1" "$n" "$window" "$2" "$3" || echo "guest exit $?"
done
python3 bench/ksmgroupd/summarise.py "$out"
