#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the power-cut guest (tests/suites/powercut.sh), with the test
# disk as /dev/vda (ext4, made on the host).
#   guest.sh write FORMAT SEED BIN   mount it and change the mail root until
#                                    the host kills QEMU; the log goes to
#                                    $GUEST_RESULTS/ack.log on the host
#   guest.sh verify FORMAT LOG BIN   mount it (the journal is replayed),
#                                    check the mail root against LOG, then
#                                    e2fsck the unmounted disk; TAP lines to
#                                    $GUEST_RESULTS/verify.txt
set -u
mode=$1 fmt=$2 arg=$3 bin=$4
out=$GUEST_RESULTS/verify.txt

if ! modprobe virtio_blk || ! modprobe ext4; then
	echo "not ok - $fmt: the guest loads virtio_blk and ext4" >>"$out"
	exit 1
fi
for _ in $(seq 100); do
	[[ -b /dev/vda ]] && break
	sleep 0.1
done
mkdir -p /mnt/pc

case $mode in
write)
	mount -t ext4 /dev/vda /mnt/pc || exit 1
	exec "$bin" write /mnt/pc/mail "$fmt" "$arg" >"$GUEST_RESULTS/ack.log"
	;;
verify)
	: >"$out"
	if ! mount -t ext4 /dev/vda /mnt/pc; then
		echo "not ok - $fmt: the file system mounts after the cut" >>"$out"
		exit 1
	fi
	echo "ok - $fmt: the file system mounts after the cut" >>"$out"
	"$bin" verify /mnt/pc/mail "$fmt" "$arg" >>"$out" 2>"$GUEST_RESULTS/verify.err"
	status=$?
	# 1 means some check failed and said so; anything else (a crash
	# opening a damaged index, say) is a failure of its own.
	if ((status > 1)); then
		echo "not ok - $fmt: the checker runs to the end  # status $status: $(head -c 200 "$GUEST_RESULTS/verify.err")" >>"$out"
	fi
	umount /mnt/pc
	if e2fsck -fn /dev/vda >"$GUEST_RESULTS/e2fsck.txt" 2>&1; then
		echo "ok - $fmt: e2fsck finds the file system clean" >>"$out"
	else
		echo "not ok - $fmt: e2fsck finds the file system clean" >>"$out"
	fi
	;;
*)
	echo "guest.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
