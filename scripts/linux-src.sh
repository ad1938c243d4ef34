#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Extract from Debian's newest linux-source-6.12 the few kernel-tree files
# we use (the kselftest harness headers and checkpatch) into build/linux-src/.
# They are never copied into the repository. A run with the files in place
# uses no network.
set -euo pipefail
. "$(dirname "$0")/common.sh"

pkg=linux-source-6.12
out=$KSMG_BUILD/linux-src
# Paths inside the kernel tree.
members=(
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	COPYING
)

ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p') || true
if [[ -z $ver ]]; then
	"$KSMG_ROOT/scripts/apt-update.sh"
	ver=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Version: //p') ||
		ksmg_die "apt does not know $pkg"
fi

mkdir -p "$KSMG_BUILD"
exec 9>"$KSMG_BUILD/.linux-src.lock"
flock 9
if [[ $(cat "$out/.version" 2>/dev/null) == "$ver" ]]; then
	ksmg_log "$pkg $ver (cached) in $out"
	exit 0
fi

tmp=$(mktemp -d "$KSMG_BUILD/.linux-src.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ksmg_log "downloading $pkg=$ver"
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) ||
	ksmg_die "apt-get download $pkg=$ver failed"
deb=$(echo "$tmp"/*.deb)
[[ -f $deb ]] || ksmg_die "no .deb after downloading $pkg"
tarball=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | grep -E '/linux-source-[^/]*\.tar\.xz$' | head -n1)
[[ -n $tarball ]] || ksmg_die "$deb holds no linux-source-*.tar.xz"
top=$(basename "$tarball" .tar.xz)

ksmg_log "extracting ${#members[@]} files from $top.tar.xz"
mkdir -p "$tmp/src"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "$tarball" | xz -dc |
	tar -x -C "$tmp/src" --strip-components=1 "${members[@]/#/$top/}" ||
	ksmg_die "extracting from $tarball failed"
for m in "${members[@]}"; do
	[[ -f $tmp/src/$m ]] || ksmg_die "$m is not in $tarball"
done
echo "$ver" >"$tmp/src/.version"
rm -rf "$out"
mv "$tmp/src" "$out"
ksmg_log "$pkg $ver extracted into $out"
