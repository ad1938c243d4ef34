#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make run`, the project's main job, run the way a user runs it: the
# 6.12 guest boots with the module loaded and dboxd serving the generated
# demo mailboxes; from the host, tests/demo/check_demo.py connects through
# the forwarded ports as the banner says; the guest's periodic report must
# show the merge group with members; then Ctrl-C (SIGINT to the process
# group, as a terminal sends it) must stop everything within a minute.
# DEMO_MESSAGES (default 40 here) sets the size of the demo mailbox.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
RESULTS=$PWD/build/results
TAP=$RESULTS/demo.tap
LOG=$RESULTS/demo.log
MESSAGES=${DEMO_MESSAGES:-40}
BOOT_TIMEOUT=900

mkdir -p "$RESULTS"
: >"$LOG"
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT

result() {	# result OK NAME [WHY]
	if [[ $1 == 0 ]]; then
		echo "ok - $2" >>"$lines"
	else
		echo "not ok - $2${3:+  # $3}" >>"$lines"
	fi
}

# wait_for PATTERN SECONDS: until the demo's output shows PATTERN
wait_for() {
	local deadline=$((SECONDS + $2))

	while ((SECONDS < deadline)); do
		grep -Eq "$1" "$LOG" && return 0
		kill -0 "$demo" 2>/dev/null || return 1
		sleep 2
	done
	return 1
}

if ss -ltn | grep -Eq '127\.0\.0\.1:(10143|10993) '; then
	echo "demo: ports 10143/10993 are taken on this host" >&2
	exit 1
fi

# Job control gives the demo a process group of its own, so that the
# "Ctrl-C" below reaches make, the demo script, guest-run.sh and QEMU
# together, as a terminal's would; without it, bash starts background jobs
# with SIGINT ignored and Ctrl-C could not be tested at all.
set -m
DEMO_MESSAGES=$MESSAGES make run >>"$LOG" 2>&1 </dev/null &
demo=$!
set +m

if wait_for 'dboxd is serving the demo mailboxes' $BOOT_TIMEOUT; then
	result 0 "make run boots the guest and prints how to connect"
	/usr/bin/python3 tests/demo/check_demo.py 127.0.0.1 10143 10993 \
		"$MESSAGES" >>"$lines" 2>>"$LOG" ||
		result 1 "check_demo.py ran to the end" "exit $?"
	# Logged-in users keep their workers for worker_linger; the guest
	# prints the group's figures every 30 s.
	if wait_for 'group [^ ]+: members [1-9][0-9]* merging_pages [1-9]' 75; then
		result 0 "the guest reports the merge group with workers and merged pages"
	else
		result 1 "the guest reports the merge group with workers and merged pages" \
			"no group line with members in $LOG"
	fi
else
	result 1 "make run boots the guest and prints how to connect" \
		"no banner in $LOG"
fi

kill -INT -- -"$demo" 2>/dev/null
stopped=1
for _ in $(seq 60); do
	if ! kill -0 "$demo" 2>/dev/null; then
		stopped=0
		break
	fi
	sleep 1
done
((stopped == 0)) && wait "$demo" 2>/dev/null
result $stopped "Ctrl-C stops the demo within a minute"
if pgrep -f 'results/demo-6\.12' >/dev/null; then
	result 1 "no QEMU is left running after Ctrl-C" \
		"$(pgrep -af 'results/demo-6\.12' | head -1)"
	pkill -KILL -f 'results/demo-6\.12'
else
	result 0 "no QEMU is left running after Ctrl-C"
fi
kill -KILL -- -"$demo" 2>/dev/null

scripts/tap-number.sh <"$lines" >"$TAP"
