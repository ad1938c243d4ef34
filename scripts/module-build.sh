#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build ksmgroup.ko against the headers of one kernel series, in its own
# copy of the sources (build/kmod/SERIES) so that two kernels never share
# object files. Extra arguments go to kbuild (e.g. C=2 for sparse).
# Prints nothing on stdout but the path of the module.
#
# usage: scripts/module-build.sh SERIES [KBUILD ARGS...]
# KSMG_KMOD_SRC overrides the module source dir (default kmod/).
set -euo pipefail
. "$(dirname "$0")/common.sh"

(($# >= 1)) || ksmg_die "usage: $0 SERIES [KBUILD ARGS...]"
series=$1
shift
ksmg_kernel_env "$series"
src=${KSMG_KMOD_SRC:-$KSMG_ROOT/kmod}
[[ -f $src/Kbuild ]] || ksmg_die "module source missing: $src/Kbuild"
[[ -f $KSMG_ROOT/Kbuild ]] || ksmg_die "$KSMG_ROOT/Kbuild missing"
[[ -f $KSMG_KHDR/Makefile ]] || ksmg_die "kernel headers missing: $KSMG_KHDR (run scripts/kernels.sh)"

dst=$KSMG_BUILD/kmod/$series
mkdir -p "$dst/kmod"

# Mirror the sources: copy a file only when its content differs (so the
# copy's mtime tells kbuild exactly what changed, whatever the source's
# mtime), and drop copies of sources that were deleted.
is_source() {
	case ${1##*/} in
	Kbuild | Makefile | *.c | *.h | *.S) return 0 ;;
	*) return 1 ;;
	esac
}
(cd "$src" && find . -type f) | while read -r f; do
	if ! is_source "$f"; then
		continue
	fi
	if ! cmp -s "$src/$f" "$dst/kmod/$f"; then
		mkdir -p "$dst/kmod/$(dirname "$f")"
		cp "$src/$f" "$dst/kmod/$f"
	fi
done
(cd "$dst/kmod" && find . -type f) | while read -r f; do
	if is_source "$f" && [[ ! -e $src/$f ]]; then
		rm -f "$dst/kmod/$f"
	fi
done
cmp -s "$KSMG_ROOT/Kbuild" "$dst/Kbuild" || cp "$KSMG_ROOT/Kbuild" "$dst/Kbuild"

make -C "$KSMG_KHDR" M="$dst" "$@" modules >&2 ||
	ksmg_die "$series: module build against $KSMG_ABI failed"
ko=$dst/kmod/ksmgroup.ko
[[ -f $ko ]] || ksmg_die "$series: the build made no $ko"
echo "$ko"
