#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Resolve, from apt, the newest Debian 12 kernel of each series we test
# (6.1 and 6.12), install its headers, and unpack its image package into
# build/kernels/SERIES/root for the QEMU guest (the image is never installed).
# Writes build/kernels/SERIES/kernel.env and one-line files abi, vmlinuz,
# modules and headers. A run with everything in place uses no network.
#
# usage: scripts/kernels.sh [SERIES...]
set -euo pipefail
. "$(dirname "$0")/common.sh"

# The meta package whose Depends names the newest headers of a series, and
# the shape that dependency must have.
meta_of() {
	case $1 in
	6.1) echo "linux-headers-amd64 ^linux-headers-6\.1\.0-[0-9]+-amd64$" ;;
	6.12) echo "linux-headers-6.12-amd64 ^linux-headers-6\.12\.[0-9]+\+deb12-amd64$" ;;
	esac
}

# Print "PACKAGE VERSION" of the headers package the series' meta package
# depends on (its candidate version: the newest apt knows).
resolve_headers() {
	local meta re deps
	read -r meta re < <(meta_of "$1")
	deps=$(apt-cache show --no-all-versions "$meta" 2>/dev/null |
		sed -n 's/^Depends: //p' | tr ',' '\n') || true
	if [[ -z $deps ]]; then
		ksmg_log "apt does not know $meta; running apt-get update"
		"$KSMG_ROOT/scripts/apt-update.sh"
		deps=$(apt-cache show --no-all-versions "$meta" |
			sed -n 's/^Depends: //p' | tr ',' '\n') ||
			ksmg_die "apt does not know $meta (is bookworm-security in the apt sources?)"
	fi
	# "linux-headers-6.1.0-56-amd64 (= 6.1.192-2)" or without a version.
	echo "$deps" | sed -e 's/^ *//' -e 's/[()=]//g' | awk -v re="$re" '$1 ~ re { print $1, $2; exit }'
}

is_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

install_headers() {
	local pkg=$1
	is_installed "$pkg" && return 0
	ksmg_log "installing $pkg"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "$pkg" >&2 ||
		ksmg_die "apt-get install $pkg failed"
}

# Fetch linux-image-ABI (signed, or -unsigned where there is no signed one)
# and unpack it into DIR/root.
fetch_image() {
	local abi=$1 ver=$2 dir=$3 pkg deb tmp
	pkg=linux-image-$abi
	apt-cache show --no-all-versions "$pkg" >/dev/null 2>&1 || pkg=$pkg-unsigned
	apt-cache show --no-all-versions "$pkg" >/dev/null 2>&1 ||
		ksmg_die "apt knows neither linux-image-$abi nor $pkg"
	# The image must be the very build the headers describe.
	[[ -z $ver ]] || pkg="$pkg=$ver"

	tmp=$(mktemp -d "$KSMG_BUILD/kernels/.fetch.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	deb=$(find /var/cache/apt/archives -maxdepth 1 -name "${pkg%%=*}_${ver//:/%3a}_amd64.deb" | head -n1)
	if [[ -n $deb ]]; then
		ksmg_log "using $deb from apt's cache"
		cp "$deb" "$tmp/"
	else
		ksmg_log "downloading $pkg"
		(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || ksmg_die "apt-get download $pkg failed"
	fi
	deb=$(echo "$tmp"/*.deb)
	[[ -f $deb ]] || ksmg_die "no .deb after downloading $pkg"
	dpkg-deb -x "$deb" "$tmp/root" || ksmg_die "dpkg-deb -x $deb failed"
	rm -f "$deb"
	# The package ships no modules.dep (its postinst runs depmod): make one
	# so that the initramfs builder and modprobe in the guest can use it.
	depmod -b "$tmp/root" "$abi" || ksmg_die "depmod for $abi failed"
	rm -rf "$dir/root"
	mkdir -p "$dir"
	mv "$tmp/root" "$dir/root"
	rm -rf "$tmp"
	trap - EXIT
}

write_env() {
	local series=$1 abi=$2 ver=$3 dir=$4
	local vmlinuz=$dir/root/boot/vmlinuz-$abi moddir=$dir/root/lib/modules/$abi
	local khdr=/usr/src/linux-headers-$abi

	[[ -f $vmlinuz ]] || ksmg_die "$vmlinuz missing after unpacking the image"
	[[ -f $moddir/modules.dep ]] || ksmg_die "$moddir/modules.dep missing"
	[[ -f $khdr/Makefile ]] || ksmg_die "$khdr is not a kernel build dir"
	printf '%s\n' "$abi" >"$dir/abi"
	printf '%s\n' "$vmlinuz" >"$dir/vmlinuz"
	printf '%s\n' "$moddir" >"$dir/modules"
	printf '%s\n' "$khdr" >"$dir/headers"
	cat >"$dir/kernel.env.tmp" <<EOT
# Written by scripts/kernels.sh for the $series series.
KSMG_SERIES=$series
KSMG_ABI=$abi
KSMG_KVERSION=$ver
KSMG_VMLINUZ=$vmlinuz
KSMG_MODDIR=$moddir
KSMG_KHDR=$khdr
EOT
	mv "$dir/kernel.env.tmp" "$dir/kernel.env"
}

do_series() {
	local series=$1 hpkg ver abi dir old_abi=
	dir=$KSMG_BUILD/kernels/$series
	read -r hpkg ver < <(resolve_headers "$series") || true
	[[ -n ${hpkg:-} ]] || ksmg_die "cannot find the $series headers package in the Depends of $(meta_of "$series" | cut -d' ' -f1)"
	abi=${hpkg#linux-headers-}

	install_headers "$hpkg"
	[[ -r $dir/kernel.env ]] && old_abi=$(sed -n 's/^KSMG_ABI=//p' "$dir/kernel.env")
	if [[ $old_abi == "$abi" && -f $dir/root/boot/vmlinuz-$abi ]]; then
		ksmg_log "$series: $abi (cached)"
		return 0
	fi
	fetch_image "$abi" "$ver" "$dir"
	write_env "$series" "$abi" "$ver" "$dir"
	ksmg_log "$series: $abi ready in $dir"
}

(($#)) || set -- $KSMG_SERIES_ALL
mkdir -p "$KSMG_BUILD/kernels"
# Two suites (or engineers) may run this at once: one fetches, one waits.
exec 9>"$KSMG_BUILD/kernels/.lock"
flock 9
for s in "$@"; do
	ksmg_check_series "$s"
	do_series "$s"
done
