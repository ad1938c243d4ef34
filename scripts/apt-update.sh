#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# apt-get update that waits for a concurrent apt to finish instead of failing
# (DPkg::Lock::Timeout does not cover the lists lock on every apt version).
set -euo pipefail
. "$(dirname "$0")/common.sh"

export DEBIAN_FRONTEND=noninteractive
for ((try = 1; try <= 60; try++)); do
	if apt-get update -q -o DPkg::Lock::Timeout=600 >&2; then
		exit 0
	fi
	ksmg_log "apt-get update failed (try $try), retrying in 10 s"
	sleep 10
done
ksmg_die "apt-get update kept failing for 10 minutes"
