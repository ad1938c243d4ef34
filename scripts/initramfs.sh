#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the guest initramfs of one kernel series: busybox-static, the
# modules that 9p over virtio, overlayfs and virtio-net need (with their
# dependencies, from the unpacked image's modules.dep) and scripts/guest-init
# as /init. Prints the path of the cpio archive; rebuilds only when an input
# changed.
#
# usage: scripts/initramfs.sh SERIES
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Modules /init loads at boot, and the ones it loads only for networking.
BASE_MODULES="virtio_pci 9pnet_virtio 9p overlay"
NET_MODULES="virtio_net"

(($# == 1)) || ksmg_die "usage: $0 SERIES"
series=$1
ksmg_kernel_env "$series"
busybox=/bin/busybox
# The initramfs has no libc: busybox must be the static build.
if [[ ! -x $busybox ]] || ldd "$busybox" >/dev/null 2>&1; then
	ksmg_die "$busybox is missing or not static: install busybox-static"
fi

out=$KSMG_BUILD/guest/$series
init=$KSMG_ROOT/scripts/guest-init
cpio_out=$out/initramfs.cpio.gz

# Print, in load order, the modules.dep paths needed for module $1 (nothing
# when it is built in). modprobe loads a module's dependency list from its
# end, so we do the same.
deps_of() {
	local name=$1 line path deps i
	line=$(awk -v n="$name" '{ p = $1; sub(":$", "", p); b = p; sub(".*/", "", b);
		sub("\\.ko(\\.(xz|zst|gz))?$", "", b); gsub("-", "_", b);
		if (b == n) { print; exit } }' "$KSMG_MODDIR/modules.dep")
	if [[ -z $line ]]; then
		grep -Eq "/${name//_/[-_]}\.ko$" "$KSMG_MODDIR/modules.builtin" ||
			ksmg_die "$series: module $name is neither in modules.dep nor built in"
		return 0
	fi
	path=${line%%:*}
	read -r -a deps <<<"${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		echo "${deps[i]}"
	done
	echo "$path"
}

# Print the de-duplicated load order for a list of module names.
load_order() {
	local m
	for m in "$@"; do
		deps_of "$m"
	done | awk '!seen[$0]++'
}

base=$(load_order $BASE_MODULES)
net=$(load_order $NET_MODULES | grep -vxF -f <(echo "$base") || true)

stamp=$(printf '%s\n' "$KSMG_ABI" "$base" "$net" | cat - "$init" "$0" | sha256sum | cut -d' ' -f1)
if [[ -f $cpio_out && $(cat "$out/stamp" 2>/dev/null) == "$stamp" ]]; then
	echo "$cpio_out"
	exit 0
fi

mkdir -p "$out"
tmp=$(mktemp -d "$out/.root.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,lib/modules,etc,mnt/root,mnt/lower,mnt/rw,results}
cp "$busybox" "$tmp/bin/busybox"
cp "$init" "$tmp/init"
chmod 755 "$tmp/init"

# Copy each module, uncompressed (busybox insmod takes plain .ko files), and
# list the load order in etc/modules.base and etc/modules.net.
add_modules() {
	local list=$1 path name
	: >"$tmp/etc/$list"
	while read -r path; do
		[[ -n $path ]] || continue
		name=${path##*/}
		case $name in
		*.ko) cp "$KSMG_MODDIR/$path" "$tmp/lib/modules/$name" ;;
		*.ko.xz) xz -dc "$KSMG_MODDIR/$path" >"$tmp/lib/modules/${name%.xz}" ;;
		*.ko.zst) zstd -qdc "$KSMG_MODDIR/$path" >"$tmp/lib/modules/${name%.zst}" ;;
		*.ko.gz) gzip -dc "$KSMG_MODDIR/$path" >"$tmp/lib/modules/${name%.gz}" ;;
		*) ksmg_die "unexpected module file $path" ;;
		esac
		echo "${name%.ko*}.ko" >>"$tmp/etc/$list"
	done <<<"$2"
}
add_modules modules.base "$base"
add_modules modules.net "$net"

(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$cpio_out.tmp"
mv "$cpio_out.tmp" "$cpio_out"
echo "$stamp" >"$out/stamp"
ksmg_log "$series: initramfs with $(echo $base $net | wc -w) modules: $cpio_out"
echo "$cpio_out"
