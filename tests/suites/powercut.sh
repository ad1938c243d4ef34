#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Power-cut test of the dbox storage (tests/powercut): for each format, a
# 6.12 guest with a fresh ext4 virtio disk changes a mail root as fast as
# it can (tests/powercut/powercut.c write) while logging every operation
# the storage acknowledged to the host; the host kills QEMU with SIGKILL at
# a random moment, boots a second guest on the same disk and checks every
# acknowledged change there (powercut.c verify), then e2fsck. POWERCUT_CUTS
# (default 3) cuts per format; POWERCUT_SEED makes a run repeatable.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
TOP=$PWD
RESULTS=$TOP/build/results
WORK=$TOP/build/powercut
TAP=$RESULTS/powercut.tap
LOG=$RESULTS/powercut.log
SERIES=6.12
CUTS=${POWERCUT_CUTS:-3}
SEED=${POWERCUT_SEED:-$(date +%s)}

mkdir -p "$RESULTS" "$WORK"
: >"$LOG"
lines=$WORK/lines
: >"$lines"
bin=$WORK/powercut
if ! { make -C user/dbox -j2 lib &&
       cc -std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE \
	  -Iuser/dbox -o "$bin" tests/powercut/powercut.c \
	  build/user/dbox/libdbox.a -llmdb -luring &&
       scripts/kernels.sh "$SERIES"; } >>"$LOG" 2>&1; then
	echo "powercut: build failed, see $LOG" >&2
	exit 1
fi

# qemu_of DIR: the pid of the QEMU whose results share is DIR
qemu_of() {
	pgrep -f "^qemu-system-x86_64 .*path=$1,"
}

echo "# seed $SEED" >>"$lines"
RANDOM=$SEED
for fmt in sdbox mdbox; do
	for ((cut = 1; cut <= CUTS; cut++)); do
		name="$fmt cut $cut"
		dir=$WORK/$fmt-$cut
		rm -rf "$dir"
		mkdir -p "$dir/write" "$dir/verify"
		img=$dir/disk.img
		truncate -s 512M "$img"
		mkfs.ext4 -q -F "$img" >>"$LOG" 2>&1

		# Cut after 30-330 log lines plus up to 2 s, so that the
		# kill lands anywhere in an operation.
		want=$((30 + RANDOM % 300))
		GUEST_DISK=$img GUEST_RESULTS=$dir/write GUEST_TIMEOUT=900 \
			scripts/guest-run.sh "$SERIES" tests/powercut/guest.sh \
			write "$fmt" "$RANDOM" "$bin" >>"$LOG" 2>&1 &
		# (GUEST_ENV="DBOX_IO_BACKEND LD_PRELOAD" lets a run check the
		# test itself, e.g. with fsync made a no-op.)
		guest=$!
		deadline=$((SECONDS + 600))
		while kill -0 "$guest" 2>/dev/null && ((SECONDS < deadline)); do
			have=$({ wc -l <"$dir/write/ack.log"; } 2>/dev/null || echo 0)
			((have >= want)) && break
			sleep 0.2
		done
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
		qemu=$(qemu_of "$dir/write")
		if [[ -z $qemu ]]; then
			echo "not ok - $name: the writer runs until the cut  # guest ended first, see $dir/write" >>"$lines"
			wait "$guest"
			continue
		fi
		kill -KILL "$qemu"
		wait "$guest"
		have=$(wc -l <"$dir/write/ack.log")
		echo "# $name: cut after $have log lines" >>"$lines"

		GUEST_DISK=$img GUEST_RESULTS=$dir/verify GUEST_TIMEOUT=600 \
			scripts/guest-run.sh "$SERIES" tests/powercut/guest.sh \
			verify "$fmt" "$dir/write/ack.log" "$bin" >>"$LOG" 2>&1
		status=$?
		if [[ -s $dir/verify/verify.txt ]]; then
			sed "s/^\(\(not \)\?ok - \)/\1cut $cut: /" \
				"$dir/verify/verify.txt" >>"$lines"
		fi
		if ((status != 0)); then
			echo "not ok - $name: the checking guest exits cleanly  # status $status, see $dir/verify" >>"$lines"
		fi
		rm -f "$img"
	done
done
scripts/tap-number.sh <"$lines" >"$TAP"
