#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside a test guest (scripts/guest-run.sh): enable KSM, load
# ksmgroup.ko, run every kselftest binary, unload the module and look at
# dmesg. Writes unnumbered flat TAP lines ("ok - 6.1: bin: test") to
# $GUEST_RESULTS/kmod.tap and each binary's own output to
# $GUEST_RESULTS/ksft/BIN.tap; tests/suites/kmod.sh numbers them.
#
# usage: kmod-tests.sh SERIES KO_PATH KSELFTEST_DIR
# KSELFTEST_DIR "-" runs no kselftest (the suite reported why already).
set -euo pipefail

(($# == 3)) || { echo "usage: $0 SERIES KO_PATH KSELFTEST_DIR" >&2; exit 2; }
series=$1 ko=$(realpath "$2") ksft=$3
# The kselftests that unload and reload the module find it here.
export KSMG_MODULE=$ko
here=$(cd "$(dirname "$0")" && pwd)
results=${GUEST_RESULTS:?not running under scripts/guest-run.sh}
tap=$results/kmod.tap
dev=/dev/ksmgroup

# KSM knobs for the tests; a test may change them while it runs.
ksm_run=${KSM_RUN:-1}
ksm_pages_to_scan=${KSM_PAGES_TO_SCAN:-1000}
ksm_sleep_millisecs=${KSM_SLEEP_MILLISECS:-10}
# Seconds one kselftest binary may take.
ksft_timeout=${KSFT_TIMEOUT:-300}

: >"$tap"
mkdir -p "$results/ksft"
rm -f "$results"/ksft/*

ok() { echo "ok - $series: $*" >>"$tap"; }
not_ok() { echo "not ok - $series: $*" >>"$tap"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# Kernel messages after this marker belong to this run.
marker="ksmg-kmod-tests: start $$"
echo "$marker" >/dev/kmsg

set_ksm() {
	local k=/sys/kernel/mm/ksm
	[[ -d $k ]] || { echo "no $k: kernel without CONFIG_KSM" >&2; return 1; }
	echo "$ksm_pages_to_scan" >$k/pages_to_scan &&
		echo "$ksm_sleep_millisecs" >$k/sleep_millisecs &&
		echo "$ksm_run" >$k/run
}
check "setup: KSM run=$ksm_run pages_to_scan=$ksm_pages_to_scan sleep_millisecs=$ksm_sleep_millisecs" set_ksm

loaded=0
if insmod "$ko"; then
	loaded=1
	ok "insmod ${ko##*/}"
else
	not_ok "insmod ${ko##*/}"
fi

wait_for() { # wait_for TEST SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		test "$1" "$dev" && return 0
		sleep 0.1
	done
	return 1
}
if ((loaded)); then
	check "$dev appears as a character device" wait_for -c 5
else
	not_ok "$dev appears as a character device # SKIP module not loaded"
fi

# The binaries to run: tests.list when the build wrote one, else every
# executable file in the directory.
if [[ $ksft == - ]]; then
	bins=()
elif [[ -f $ksft/tests.list ]]; then
	mapfile -t bins < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$ksft/tests.list" | grep -v '^$')
else
	mapfile -t bins < <(find "$ksft" -maxdepth 1 -type f -perm -u+x -printf '%f\n' | LC_ALL=C sort)
fi
[[ $ksft == - || ${#bins[@]} -gt 0 ]] || not_ok "kselftests: no test binary in $ksft"

for bin in "${bins[@]}"; do
	out=$results/ksft/$bin.tap
	if [[ ! -x $ksft/$bin ]]; then
		not_ok "$bin: missing or not executable in $ksft"
		continue
	fi
	echo "kmod-tests: running $bin" >&2
	set +e
	(cd "$ksft" && timeout -k 10 "$ksft_timeout" "./$bin") >"$out" 2>&1 </dev/null
	rc=$?
	set -e
	((rc == 124)) && echo "# kmod-tests: killed after ${ksft_timeout}s" >>"$out"
	awk -v prefix="$series: $bin" -v rc="$rc" -f "$here/ksft-flatten.awk" "$out" >>"$tap"
done

unload() {
	rmmod ksmgroup || return 1
	# The misc device must go with the module.
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -e $dev ]] || return 0
		sleep 0.1
	done
	echo "$dev still exists after rmmod" >&2
	return 1
}
if ((loaded)); then
	check "rmmod ksmgroup" unload
else
	not_ok "rmmod ksmgroup # SKIP module not loaded"
fi

if [[ -w /sys/kernel/debug/kmemleak ]]; then
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$results/kmemleak.txt"
	check "kmemleak: no leak reported" test ! -s "$results/kmemleak.txt"
else
	ok "kmemleak: no leak reported # SKIP kernel without CONFIG_DEBUG_KMEMLEAK"
fi

# Anything the kernel said since the marker that means a bug (the same
# list as scripts/guest-run.sh applies to the whole console).
problems='Oops|BUG:|WARNING: CPU:|WARNING: at |WARNING: possible|WARNING: suspicious|Call Trace|general protection|kmemleak|KASAN|UBSAN|Kernel panic|INFO: task .* blocked|soft lockup|hard LOCKUP'
dmesg | sed -n "/$marker/,\$p" >"$results/dmesg.txt"
if grep -E "$problems" "$results/dmesg.txt" >"$results/dmesg-problems.txt"; then
	not_ok "dmesg: no oops, BUG, WARNING or leak while testing"
	sed 's/^/# /' "$results/dmesg-problems.txt" | head -n 20 >>"$tap"
else
	ok "dmesg: no oops, BUG, WARNING or leak while testing"
fi
exit 0
