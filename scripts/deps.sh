#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install every Debian package named in scripts/packages.txt that is not
# installed yet. Checks dpkg first so that a run with nothing to do takes
# no network and about a second.
set -euo pipefail
. "$(dirname "$0")/common.sh"

list=$KSMG_ROOT/scripts/packages.txt
[[ -r $list ]] || ksmg_die "$list is missing"

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$' | sort -u)
((${#wanted[@]})) || ksmg_die "$list names no package"

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	ksmg_log "all ${#wanted[@]} packages are installed"
	exit 0
fi

[[ $(id -u) == 0 ]] || ksmg_die "not root; cannot install: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
ksmg_log "installing: ${missing[*]}"
# Other engineers run apt at the same time: wait for the locks rather than fail.
"$KSMG_ROOT/scripts/apt-update.sh"
apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}" ||
	ksmg_die "apt-get install failed for: ${missing[*]}"
