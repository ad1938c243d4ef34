#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Module suite: for each kernel series (6.1, 6.12; in parallel) build
# ksmgroup.ko against its headers, boot it in QEMU and run
# tests/guest/kmod-tests.sh there (insmod, the kselftests, rmmod, dmesg).
# Also checks once that the guest's network forwards a host port.
# Writes build/results/kmod-SERIES.tap; guest logs are in
# build/results/guest-SERIES/ (console.log, script.log, ksft/*.tap).
#
# Environment: KSMG_SERIES (default "6.1 6.12"), KMOD_GUEST_TIMEOUT
# (seconds per guest, default 1200), KSMG_KMOD_SRC / KSMG_KSFT_SRC (other
# module / kselftest sources; for testing this suite itself).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/common.sh

series_list=${KSMG_SERIES:-$KSMG_SERIES_ALL}
results=$KSMG_BUILD/results
mkdir -p "$results"
for s in $series_list; do
	ksmg_check_series "$s"
	rm -f "$results/kmod-$s.tap"
done

# write_tap SERIES: number the result lines on stdin into kmod-SERIES.tap.
write_tap() {
	scripts/tap-number.sh >"$results/kmod-$1.tap.tmp"
	mv "$results/kmod-$1.tap.tmp" "$results/kmod-$1.tap"
}

kmod_src=${KSMG_KMOD_SRC:-$KSMG_ROOT/kmod}
if [[ ! -f $kmod_src/Kbuild ]]; then
	for s in $series_list; do
		echo "not ok - $s: module source missing ($kmod_src/Kbuild)" | write_tap "$s"
	done
	exit 0
fi

# Fetch the kernels once, before the parallel part (it takes a lock anyway).
scripts/kernels.sh $series_list || ksmg_die "cannot prepare the guest kernels"

# The kselftests are user space: built once, run on every kernel.
ksft_lines=()
ksft_src=${KSMG_KSFT_SRC:-$KSMG_ROOT/tests/kmod}
ksft_dir=$KSMG_BUILD/kselftests
if [[ ! -f $ksft_src/Makefile ]]; then
	ksft_lines+=("not ok - kselftest source missing ($ksft_src/Makefile)")
	ksft_dir=-
elif scripts/kselftest-build.sh >"$results/kmod-kselftests.build.log" 2>&1; then
	ksft_lines+=("ok - build: kselftests")
else
	ksft_lines+=("not ok - build: kselftests (log: build/results/kmod-kselftests.build.log)")
	ksft_lines+=("$(grep -E 'error|Error' "$results/kmod-kselftests.build.log" | head -n 15 | sed 's/^/# /')")
	ksft_dir=-
fi

# One kernel, from build to TAP. Runs in the background.
run_series() {
	local s=$1
	local ko rc gdir=$results/guest-$s log=$results/kmod-$s.build.log boot
	ksmg_kernel_env "$s"
	{
		for l in "${ksft_lines[@]}"; do
			case $l in
			"ok - "* | "not ok - "*) echo "${l/ - / - $s: }" ;;
			*) echo "$l" ;;
			esac
		done
		if ! ko=$(scripts/module-build.sh "$s" 2>"$log"); then
			echo "not ok - $s: build: ksmgroup.ko against $KSMG_ABI (log: ${log#"$KSMG_ROOT"/})"
			tail -n 20 "$log" | sed 's/^/# /'
			return 0
		fi
		echo "ok - $s: build: ksmgroup.ko against $KSMG_ABI"

		mkdir -p "$gdir"
		rm -f "$gdir/kmod.tap"
		set +e
		GUEST_RESULTS=$gdir GUEST_TIMEOUT=${KMOD_GUEST_TIMEOUT:-1200} \
			scripts/guest-run.sh "$s" tests/guest/kmod-tests.sh "$s" "$ko" "$ksft_dir" \
			2>"$gdir/guest-run.log"
		rc=$?
		set -e
		[[ -f $gdir/kmod.tap ]] && cat "$gdir/kmod.tap"
		boot=$(sed -n 's/^KSMG_GUEST_BOOT=//p' "$gdir/run.env" 2>/dev/null || true)
		case $rc in
		0 | 126) echo "ok - $s: guest: booted in ${boot:-?} s, ran the tests, powered off" ;;
		124) echo "not ok - $s: guest: killed after ${KMOD_GUEST_TIMEOUT:-1200} s (console: build/results/guest-$s/console.log)" ;;
		125) echo "not ok - $s: guest: reported no exit status ($(cat "$gdir/failure" 2>/dev/null); console: build/results/guest-$s/console.log)"
			tail -n 15 "$gdir/console.log" | sed 's/^/# /' ;;
		*) echo "not ok - $s: guest: kmod-tests.sh exited with status $rc (build/results/guest-$s/script.log)"
			tail -n 15 "$gdir/script.log" 2>/dev/null | sed 's/^/# /' ;;
		esac
		if [[ -s $gdir/kernel-problems.txt ]]; then
			echo "not ok - $s: console: no oops, BUG, WARNING or call trace from the kernel"
			head -n 20 "$gdir/kernel-problems.txt" | sed 's/^/# /'
		elif [[ -f $gdir/kernel-problems.txt ]]; then
			echo "ok - $s: console: no oops, BUG, WARNING or call trace from the kernel"
		fi
	} >"$results/kmod-$s.lines"
}

# The network check: a host port forwarded by QEMU reaches a guest server.
net_check() {
	local s=$1
	local gdir=$results/guest-net-$s port token i got='' rc why
	mkdir -p "$gdir/net"
	rm -f "$gdir/net/fetched"
	token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "$token" >"$gdir/net/token"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	GUEST_RESULTS=$gdir GUEST_TIMEOUT=300 GUEST_NET="hostfwd=tcp:127.0.0.1:$port-:8080" \
		scripts/guest-run.sh "$s" tests/guest/net-check.sh 8080 2>"$gdir/guest-run.log" &
	local guest=$!
	for ((i = 0; i < 180; i++)); do
		got=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/token" 2>/dev/null || true)
		[[ $got == "$token" ]] && break
		kill -0 "$guest" 2>/dev/null || break
		sleep 1
	done
	touch "$gdir/net/fetched"
	set +e
	wait "$guest"
	rc=$?
	set -e
	why=$(cat "$gdir/failure" 2>/dev/null || true)
	[[ $got == "$token" ]] || why+="${why:+, }the host never got the token"
	if [[ $got == "$token" && $rc == 0 ]]; then
		echo "ok - $s: guest network: eth0 up, host port $port forwarded to a guest server"
	else
		echo "not ok - $s: guest network: eth0 up, host port forwarded to a guest server (guest status $rc${why:+: $why}; build/results/guest-net-$s/)"
		tail -n 10 "$gdir/guest-run.log" | sed 's/^/# /'
	fi
}

pids=()
for s in $series_list; do
	run_series "$s" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || ksmg_log "a series runner failed (status $?)"
done
net_series=${series_list##* }
net_check "$net_series" >"$results/kmod-net.lines"
cat "$results/kmod-net.lines" >>"$results/kmod-$net_series.lines"

for s in $series_list; do
	[[ -s $results/kmod-$s.lines ]] || echo "not ok - $s: the series runner wrote no result" >"$results/kmod-$s.lines"
	write_tap "$s" <"$results/kmod-$s.lines"
	rm -f "$results/kmod-$s.lines"
done
rm -f "$results/kmod-net.lines"
exit 0
