#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# N idle IMAP connections to Dovecot and to dboxd, one guest boot per run:
# ksmgroupd (governor, 25 % budget) against its peer with ksmd at fixed
# settings 100/20 (Debian's defaults): prctl(PR_SET_MEMORY_MERGE) on kernels
# that have it (6.12); on 6.1 the same merge group with the governor off.
# Modes are dovecot-guest.sh's (ksmgroupd, prctl, fixed) and, prefixed
# "dboxd-", dboxd-guest.sh's (dboxd-ksmgroupd: ksm = group; dboxd-prctl,
# dboxd-fixed, dboxd-off); summarise.py compares within each server.
# Runs go round-robin (round 1 of every series and mode, then round 2, ...)
# so that slow host periods spread over the modes; one guest at a time.
# Raw output in build/bench/ksmgroupd/full/SERIES/MODE/rR/; summary printed.
#
# usage: bench/ksmgroupd/run.sh [N [WINDOW [REPEATS [SERIES...]]]]
#        (default 200 400 2 6.12 6.1)
# Environment: GUEST_MEM (default 3072), MODES_<series with _ for .>
# (e.g. MODES_6_12="ksmgroupd prctl fixed"), BENCH_DEADLINE (epoch seconds:
# a run that would not finish by then, judged by the longest run so far,
# is not started), BENCH_OUT (default build/bench/ksmgroupd/full).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200} window=${2:-400} repeats=${3:-2}
shift $(($# < 3 ? $# : 3))
series=("$@")
((${#series[@]})) || series=(6.12 6.1)
out=${BENCH_OUT:-$PWD/build/bench/ksmgroupd/full}
mkdir -p "$out" build/bench/ksmgroupd
cc -Wall -Wextra -Werror -O2 -g -o build/bench/ksmgroupd/mergeable-exec bench/ksmgroupd/mergeable-exec.c
make -s -C user/ksmgroupd >/dev/null
make -s -C user/dboxd >/dev/null
# Every run uses these copies: a rebuild in the tree during the matrix
# does not change the daemons under measurement. Their names stay: the
# sampler finds dboxd's processes by name.
mkdir -p "$out/bin"
cp build/user/ksmgroupd/ksmgroupd build/user/dboxd/dboxd "$out/bin/"
for s in "${series[@]}"; do scripts/module-build.sh "$s" >/dev/null; done

modes_of() {
	local v=MODES_${1//./_}
	if [[ -n ${!v:-} ]]; then echo "${!v}"
	elif [[ $1 == 6.1 ]]; then echo "ksmgroupd fixed dboxd-ksmgroupd dboxd-fixed"
	else echo "ksmgroupd prctl dboxd-ksmgroupd dboxd-prctl dboxd-fixed"; fi
}

longest=0
for ((r = 1; r <= repeats; r++)); do
	for s in "${series[@]}"; do
		for m in $(modes_of "$s"); do
			now=$(date +%s)
			if [[ -n ${BENCH_DEADLINE:-} ]] && ((now + longest > BENCH_DEADLINE)); then
				echo "== skip $s $m r$r: would end after the deadline"
				continue
			fi
			dir=$out/$s/$m/r$r
			mkdir -p "$dir"
			echo "== $(date -u +%H:%M:%S) $s $m r$r n=$n window=$window"
			server=dovecot
			[[ $m == dboxd-* ]] && server=dboxd
			GUEST_RESULTS=$dir GUEST_MEM=${GUEST_MEM:-3072} \
			GUEST_TIMEOUT=$((window + 1800)) GUEST_ENV="KSMGD_BIN DBOXD_BIN" \
			KSMGD_BIN=$out/bin/ksmgroupd DBOXD_BIN=$out/bin/dboxd \
				scripts/guest-run.sh "$s" bench/ksmgroupd/$server-guest.sh "${m#dboxd-}" "$n" "$window" 100 20 \
				|| echo "guest exit $?"
			took=$(($(date +%s) - now))
			((took > longest)) && longest=$took
			echo "   took ${took}s"
		done
	done
done
python3 bench/ksmgroupd/summarise.py "$out"
