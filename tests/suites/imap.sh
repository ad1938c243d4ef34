#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dboxd, the IMAP server (user/dboxd): its C unit tests (test-*.c next to
# the code), the end-to-end tests of tests/imap/ (real dboxd as root on
# high loopback ports, real clients: Python imaplib, curl, openssl, mbsync,
# swaks, Dovecot 2.3 for comparison, the project's load generator
# bench/imap/loadgen; test_seccomp and test_lmtp_tls run
# after run.py's default modules), and one QEMU guest (6.12) with the
# ksmgroup module loaded, where the workers must join dboxd's merge group
# and their pages merge (tests/imap/guest-ksm.sh).
# All TAP streams are merged, renumbered and prefixed with their source into
# build/results/imap.tap. Exits non-zero only when it could not run (the
# build failed). IMAP_TESTS="test_auth test_protocol" runs only those
# end-to-end modules; IMAP_GUEST=0 skips the guest.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
TOP=$PWD
RESULTS=$TOP/build/results
BUILD=$TOP/build/user/dboxd
TAP=$RESULTS/imap.tap
LOG=$RESULTS/imap.log
PYTHON=/usr/bin/python3

mkdir -p "$RESULTS"
: > "$LOG"
# bench/imap: loadgen and mkmail, the load generator test_load drives
if ! make -C user/dboxd -j2 all >>"$LOG" 2>&1 ||
   ! make -C bench/imap -j2 >>"$LOG" 2>&1; then
	echo "imap: build failed, see $LOG" >&2
	exit 1
fi

# run.py exits non-zero when a test failed; a guest that hung or oopsed
# exits non-zero with its TAP intact: both are failures of their own.
TAP_STRICT=1
. scripts/tap-merge.sh
for t in "$BUILD"/tests/test-*; do
	[[ -x $t ]] || continue
	tap_run "unit/$(basename "$t")" "$t"
done
# The end-to-end tests need root (dboxd starts as root and drops to
# per-role uids); the top-level make check runs as root.
if [[ $(id -u) -ne 0 ]]; then
	tap_result ok "e2e # SKIP not root"
else
	# shellcheck disable=SC2086
	tap_run e2e env DBOXD="$BUILD/dboxd" "$PYTHON" tests/imap/run.py \
		${IMAP_TESTS:-}
	# seccomp of workers and template, LMTP over TLS
	if [[ -z ${IMAP_TESTS:-} ]]; then
		tap_run e2e env DBOXD="$BUILD/dboxd" "$PYTHON" tests/imap/run.py \
			test_seccomp test_lmtp_tls
	fi
fi
# The merge group needs the module, which only loads in a guest.
guest_series=6.12
if [[ ${IMAP_GUEST:-1} == 0 ]]; then
	tap_result ok "guest # SKIP IMAP_GUEST=0"
elif ! command -v qemu-system-x86_64 >/dev/null || [[ $(id -u) -ne 0 ]]; then
	tap_result ok "guest # SKIP needs root and qemu-system-x86_64"
elif ! scripts/kernels.sh "$guest_series" >>"$LOG" 2>&1 ||
     ! ko=$(scripts/module-build.sh "$guest_series" 2>>"$LOG"); then
	tap_result "not ok" "guest: cannot prepare kernel $guest_series and ksmgroup.ko (see $LOG)"
else
	gres=$RESULTS/guest-$guest_series-imap
	rm -f "$gres/imap-ksm.tap"
	GUEST_TIMEOUT=${IMAP_GUEST_TIMEOUT:-600} GUEST_RESULTS=$gres \
		scripts/guest-run.sh "$guest_series" tests/imap/guest-ksm.sh \
		"$ko" >>"$LOG" 2>&1
	status=$?
	out=$(mktemp)
	scripts/tap-number.sh < "${gres}/imap-ksm.tap" > "$out" 2>/dev/null ||
		: > "$out"
	tap_merge "guest-$guest_series" "$status" "$out"
	rm -f "$out"
fi
tap_end imap
exit 0
