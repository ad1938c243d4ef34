# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the build and test scripts; source it, do not run it.

KSMG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KSMG_BUILD=${KSMG_BUILD:-$KSMG_ROOT/build}
# The kernel series we test against, oldest first.
KSMG_SERIES_ALL="6.1 6.12"

ksmg_die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

ksmg_log() {
	echo "${0##*/}: $*" >&2
}

ksmg_check_series() {
	case " $KSMG_SERIES_ALL " in
	*" $1 "*) ;;
	*) ksmg_die "unknown kernel series '$1' (known: $KSMG_SERIES_ALL)" ;;
	esac
}

# Load build/kernels/SERIES/kernel.env (written by scripts/kernels.sh):
# KSMG_ABI, KSMG_VMLINUZ, KSMG_MODDIR, KSMG_KHDR.
ksmg_kernel_env() {
	local env=$KSMG_BUILD/kernels/$1/kernel.env

	ksmg_check_series "$1"
	[[ -r $env ]] || ksmg_die "$env is missing: run scripts/kernels.sh first"
	# shellcheck source=/dev/null
	. "$env"
}
