#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo behind `make run`: builds dboxd and ksmgroup.ko for the 6.12
# guest kernel, boots it in QEMU with dboxd serving generated demo
# mailboxes (demo-guest.sh), forwards 127.0.0.1:10143 and 127.0.0.1:10993 to
# the guest's IMAP and IMAPS ports, shows the guest's output, and stops the
# guest on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../../.."
series=${DEMO_SERIES:-6.12}
make -C user/dboxd -j2 >/dev/null
scripts/kernels.sh "$series"
ko=$(scripts/module-build.sh "$series")
results=build/results/demo-$series
mkdir -p "$results"
: >"$results/script.log"
tail -n +1 -F "$results/script.log" 2>/dev/null &
tailer=$!
trap 'kill $tailer 2>/dev/null; echo; echo "demo stopped"' EXIT
GUEST_TIMEOUT=${DEMO_TIMEOUT:-86400} GUEST_RESULTS=$results \
GUEST_NET="hostfwd=tcp:127.0.0.1:10143-:143,hostfwd=tcp:127.0.0.1:10993-:993" \
GUEST_ENV=DEMO_MESSAGES \
	scripts/guest-run.sh "$series" user/dboxd/demo/demo-guest.sh "$ko" || true
