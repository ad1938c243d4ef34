#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot a Debian kernel of SERIES in QEMU (TCG) with the host's root as the
# guest's root (read-only 9p plus a tmpfs overlay), run SCRIPT [ARGS] there
# as root, from the current directory, and return its exit status.
#
# usage: scripts/guest-run.sh SERIES SCRIPT [ARGS...]
#
# Environment:
#   GUEST_RESULTS  results dir, shared read-write at the same path in the
#                  guest (default build/results/guest-SERIES); it receives
#                  console.log, script.log, exit-status, kernel-problems.txt
#                  and run.env (boot and run times).
#   GUEST_TIMEOUT  seconds before QEMU is killed (default 1200).
#   GUEST_NET      empty: no network. Otherwise QEMU user-mode networking
#                  restricted to the guest (restrict=on), with these extra
#                  -netdev user options, e.g.
#                  "hostfwd=tcp:127.0.0.1:10143-:143,hostfwd=tcp:127.0.0.1:10025-:25"
#                  ("on" for none); the guest gets eth0 10.0.2.15/24.
#   GUEST_MEM, GUEST_SMP  guest size (default 2048 MiB, 2 CPUs).
#   GUEST_DISK     a raw disk image the guest sees as /dev/vda (virtio-blk,
#                  load virtio_blk in the guest). Writes QEMU has issued
#                  reach the image even when QEMU is killed; what the guest
#                  had not yet written back dies with it, as in a power cut.
#   GUEST_VERBOSE=1 also copy the console to stderr.
#   GUEST_ENV      names of host environment variables to pass to SCRIPT
#                  (the guest starts from an empty environment otherwise).
#
# The guest sees GUEST_SERIES, GUEST_ABI and GUEST_RESULTS in its environment.
# Exit status: SCRIPT's status when non-zero; otherwise 0, or
#   124 the timeout struck, 125 the guest reported no status (it panicked or
#   /init failed; a guest that stops before its job starts is booted once
#   more first; the file "failure" says why in one line), 126 the console
#   shows a kernel problem (Oops, BUG, WARNING, ...; listed in
#   kernel-problems.txt), 2 bad usage or a setup error.
set -euo pipefail
. "$(dirname "$0")/common.sh"

(($# >= 2)) || { echo "usage: $0 SERIES SCRIPT [ARGS...]" >&2; exit 2; }
series=$1 script=$2
shift 2
ksmg_kernel_env "$series"
[[ -f $script ]] || ksmg_die "no such script: $script"
script=$(realpath "$script")
command -v qemu-system-x86_64 >/dev/null || ksmg_die "qemu-system-x86_64 missing: install qemu-system-x86"

results=${GUEST_RESULTS:-$KSMG_BUILD/results/guest-$series}
mkdir -p "$results/.guest"
results=$(realpath "$results")
timeout_s=${GUEST_TIMEOUT:-1200}
[[ $timeout_s =~ ^[0-9]+$ ]] || ksmg_die "GUEST_TIMEOUT must be seconds, not '$timeout_s'"
for p in "$results" "$script" "$PWD" "$KSMG_MODDIR" "$KSMG_ROOT"; do
	[[ $p != *[\'\ ]* ]] || ksmg_die "path with a quote or space is not supported: $p"
done

initramfs=$("$KSMG_ROOT/scripts/initramfs.sh" "$series")
rm -f "$results"/{console.log,console-failed-boot.log,script.log,exit-status,failure,kernel-problems.txt,run.env}

net=0
netargs=()
if [[ -n ${GUEST_NET:-} ]]; then
	net=1
	opts=id=n0,restrict=on
	[[ $GUEST_NET == on ]] || opts+=",$GUEST_NET"
	# romfile= : no PXE ROM needed, so ipxe-qemu need not be installed.
	netargs=(-netdev "user,$opts" -device virtio-net-pci,netdev=n0,romfile=)
fi
diskargs=()
if [[ -n ${GUEST_DISK:-} ]]; then
	[[ -f $GUEST_DISK && -w $GUEST_DISK ]] || ksmg_die "GUEST_DISK: $GUEST_DISK is not a writable file"
	diskargs=(-drive "file=$GUEST_DISK,if=virtio,format=raw,cache=writeback")
fi

# The guest has fresh tmpfs on /tmp, /var/tmp and /run (only the repo is
# put back): a script kept there outside the repo travels in the results
# share instead.
case $script in
"$KSMG_ROOT"/*) ;;
/tmp/* | /var/tmp/* | /run/*)
	cp "$script" "$results/.guest/script"
	script=$results/.guest/script
	;;
esac

cat >"$results/.guest/params" <<EOT
RESULTS_PATH='$results'
REPO_PATH='$KSMG_ROOT'
JOB='$results/.guest/job'
NET=$net
SERIES='$series'
ABI='$KSMG_ABI'
MODDIR='$KSMG_MODDIR'
EOT
{
	echo "# SPDX-License-Identifier: GPL-2.0-or-later"
	echo "# The job scripts/guest-run.sh hands to the guest's /init."
	printf 'cd %q || exit 2\n' "$PWD"
	printf 'export GUEST_SERIES=%q GUEST_ABI=%q GUEST_RESULTS=%q\n' "$series" "$KSMG_ABI" "$results"
	for v in ${GUEST_ENV:-}; do
		[[ $v =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || ksmg_die "GUEST_ENV: bad variable name '$v'"
		if [[ -v $v ]]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
	done
	if [[ -x $script ]]; then
		printf 'exec %q' "$script"
	else
		printf 'exec bash %q' "$script"
	fi
	(($#)) && printf ' %q' "$@"
	echo
} >"$results/.guest/job"

cmdline="console=ttyS0 panic=-1 mitigations=off"
# Multi-threaded TCG races with the kernel's live text patching (int3 in
# sched_clock_cpu at boot, seen on 6.12 with -smp 2): run the vcpus of one
# guest on one host thread. Two guests still use both host cores.
qemu=(qemu-system-x86_64 -accel tcg,thread=single -m "${GUEST_MEM:-2048}" -smp "${GUEST_SMP:-2}"
	-nographic -no-reboot -nodefaults -serial stdio
	-kernel "$KSMG_VMLINUZ" -initrd "$initramfs" -append "$cmdline"
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=results,path=$results,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=results,mount_tag=results
	"${netargs[@]}" "${diskargs[@]}")

console=$results/console.log
# run_qemu: boot the guest once; sets qrc (QEMU's status, or timeout's).
run_qemu() {
	set +e
	if [[ ${GUEST_VERBOSE:-0} == 1 ]]; then
		timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$console" >&2
		qrc=${PIPESTATUS[0]}
	else
		timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$console" 2>&1
		qrc=$?
	fi
	set -e
}

ksmg_log "$series: booting $KSMG_ABI, running ${script#"$KSMG_ROOT"/} (timeout ${timeout_s}s)"
start=$(date +%s.%N)
# --foreground keeps QEMU in our process group: without it timeout moves
# itself into a group of its own, where a terminal's Ctrl-C (make run)
# never reaches it and the guest outlives the script.
run_qemu
# A guest that stopped by itself before /init reached the job ran nothing
# of ours: QEMU could not start (a forwarded port taken for a moment) or
# the stock kernel died booting under TCG. Boot once more, and keep the
# first console for whoever wants to know why.
boot_retries=0
if ((qrc < 124)) && [[ ! -s $results/exit-status ]] &&
	! grep -qa 'guest-init: boot done' "$console"; then
	mv "$console" "$results/console-failed-boot.log"
	ksmg_log "$series: the guest stopped before its job started (qemu status $qrc): booting again; first console: $results/console-failed-boot.log"
	tail -n 5 "$results/console-failed-boot.log" >&2
	boot_retries=1
	sleep 1
	run_qemu
fi
end=$(date +%s.%N)

wall=$(echo "$end - $start" | bc)
boot=$(sed -n 's/.*guest-init: boot done after \([0-9.]*\) s.*/\1/p' "$console" | head -n1)
echo "KSMG_GUEST_WALL=$wall" >"$results/run.env"
echo "KSMG_GUEST_BOOT=${boot:-}" >>"$results/run.env"
echo "KSMG_GUEST_BOOT_RETRIES=$boot_retries" >>"$results/run.env"

# Kernel messages (they carry a [ seconds] stamp) that mean something broke.
# "WARNING:" alone would also match benign boot lines such as the CPU
# mitigation notices, so the WARN() form ("WARNING: CPU: n PID: n at") and
# the lockdep/RCU forms are named instead.
problems='Oops|BUG:|WARNING: CPU:|WARNING: at |WARNING: possible|WARNING: suspicious|Call Trace|general protection|kmemleak|KASAN|UBSAN|Kernel panic|INFO: task .* blocked|soft lockup|hard LOCKUP'
grep -aE "\[ *[0-9]+\.[0-9]+\] .*($problems)" "$console" >"$results/kernel-problems.txt" || true

if ((qrc == 124 || qrc == 137)); then
	ksmg_log "$series: TIMEOUT after ${timeout_s}s; console: $console"
	exit 124
fi
if [[ ! -s $results/exit-status ]]; then
	ksmg_log "$series: the guest reported no exit status (qemu status $qrc); console: $console"
	tail -n 20 "$console" >&2
	# One line for a TAP description: the first sign of why, else the end.
	{ grep -a -m1 -E 'Could not|Kernel panic|guest-init: FATAL|qemu-system' "$console" ||
		tail -n 1 "$console"; } | tr -d '\r' | cut -c1-160 >"$results/failure"
	exit 125
fi
rc=$(cat "$results/exit-status")
ksmg_log "$series: script exited $rc; boot ${boot:-?} s, wall ${wall%.*} s"
if [[ $rc != 0 ]]; then
	exit "$rc"
fi
if [[ -s $results/kernel-problems.txt ]]; then
	ksmg_log "$series: kernel problems in the console:"
	head -n 5 "$results/kernel-problems.txt" >&2
	exit 126
fi
exit 0
