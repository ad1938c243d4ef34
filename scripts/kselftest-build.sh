#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the module's kselftests (tests/kmod) into build/kselftests against
# the harness headers of linux-source-6.12 and the repo's uAPI header.
# The binaries are user space and run on every guest kernel.
# Prints the output dir on stdout.
#
# KSMG_KSFT_SRC overrides the test source dir (default tests/kmod).
set -euo pipefail
. "$(dirname "$0")/common.sh"

src=${KSMG_KSFT_SRC:-$KSMG_ROOT/tests/kmod}
uapi_src=${KSMG_UAPI_HDR:-$KSMG_ROOT/kmod/uapi/ksmgroup.h}
[[ -f $src/Makefile ]] || ksmg_die "kselftest source missing: $src/Makefile"
[[ -f $uapi_src ]] || ksmg_die "uAPI header missing: $uapi_src"
"$KSMG_ROOT/scripts/linux-src.sh"
ksft=$KSMG_BUILD/linux-src/tools/testing/selftests

# The tests include <linux/ksmgroup.h>: give them the repo's copy under
# that name, not whatever the host may have installed.
uapi=$KSMG_BUILD/uapi
mkdir -p "$uapi/linux"
cp -p "$uapi_src" "$uapi/linux/ksmgroup.h"

out=$KSMG_BUILD/kselftests
# Outputs of another source dir (KSMG_KSFT_SRC) must not mix with these.
if [[ -d $out && $(cat "$out/.source" 2>/dev/null) != "$src" ]]; then
	rm -rf "$out"
fi
mkdir -p "$out"
echo "$src" >"$out/.source"
make -C "$src" O="$out" KSFT_DIR="$ksft" UAPI_DIR="$uapi" >&2 ||
	ksmg_die "building the kselftests in $src failed"
echo "$out"
