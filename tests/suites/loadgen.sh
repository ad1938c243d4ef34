#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The IMAP benchmark's instruments (bench/imap), checked before anyone
# trusts their numbers: the build (-Werror), the memory tools against
# processes whose memory is known (memhog), mkmail and loadgen against a
# real Dovecot 2.3 on loopback (every response checked, no errors, every
# op exercised, the mailboxes consistent afterwards), and loadgen against
# a broken server (tests/fake-server.py), where it must fail.
# Writes build/results/loadgen.tap; exits non-zero only if it cannot run.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
TOP=$PWD
RESULTS=$TOP/build/results
TAP=$RESULTS/loadgen.tap
LOG=$RESULTS/loadgen.log
BIN=$TOP/build/bench/imap/bin
S=$TOP/build/loadgen-test
PORT=${LOADGEN_TEST_PORT:-21843}

mkdir -p "$RESULTS"
: > "$LOG"
exec 3>"$TAP.tmp"
n=0
ok() {		# CONDITION-STATUS NAME [DIAG]
	n=$((n + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $n - $2" >&3
	else
		echo "not ok $n - $2" >&3
		[[ -n ${3:-} ]] && echo "# $3" >&3
		echo "FAIL: $2 ${3:-}" >> "$LOG"
	fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2" >&3; }
check() { local name=$1; shift; "$@" >> "$LOG" 2>&1; ok $? "$name"; }
finish() {
	echo "1..$n" >&3
	exec 3>&-
	mv "$TAP.tmp" "$TAP"
}

source bench/imap/memory.sh
source bench/imap/peers/dovecot.sh

HOGS=()
FAKE=
cleanup() {
	local p

	for p in "${HOGS[@]}" $FAKE; do
		kill "$p" 2>/dev/null
	done
	exec 4>&-
	[[ -f $S/srv/run/master.pid ]] && peer_dovecot stop "$S/srv" >> "$LOG" 2>&1
}
trap cleanup EXIT

# --- build ------------------------------------------------------------------
if ! make -C bench/imap -j2 >> "$LOG" 2>&1; then
	echo "loadgen: build of bench/imap failed, see $LOG" >&2
	exit 1
fi
ok 0 "bench/imap builds with -Wall -Wextra -Werror"
rm -rf "$S"
mkdir -p "$S"
chmod 755 "$S"

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2" | head -1; }

# memhog OUTFILE ARGS...: start one, print "PID [CHILD]" once it holds its
# memory. Its stdin is a FIFO this shell holds open, so it never sees end of
# file; stop_hogs kills the pids it printed.
start_hog() {
	local f=$1 i

	shift
	"$BIN/memhog" "$@" > "$f" < "$S/hold" &
	for ((i = 0; i < 100; i++)); do
		if [[ -s $f ]]; then
			HOGS+=($(sed 's/^ready //' "$f"))
			sed 's/^ready //' "$f"
			return 0
		fi
		sleep 0.05
	done
	return 1
}
stop_hogs() {
	((${#HOGS[@]})) && kill "${HOGS[@]}" 2>/dev/null
	wait 2>/dev/null
	HOGS=()
}
mkfifo "$S/hold"
exec 4<>"$S/hold"

# --- memory tools ---------------------------------------------------------------
# A forked pair shares 2560 written pages (10 MiB) copy-on-write: the tree
# has both, RSS counts the pages twice, PSS once. Compared against the same
# pair with no pages so that libc, stack and page tables cancel out.
mem_tools() {
	local big small rb rs d_pss d_anon d_rss tree

	start_hog "$S/hog1" -u 2560 -S 1 -f > /dev/null || return 1
	start_hog "$S/hog0" -u 0 -S 1 -f > /dev/null || return 1
	big=$(sed 's/^ready //' "$S/hog1")
	small=$(sed 's/^ready //' "$S/hog0")
	sleep 0.3
	tree=$(mem_tree "${big%% *}" | tr '\n' ' ')
	[[ $tree == "$(tr ' ' '\n' <<< "$big" | sort -n | tr '\n' ' ')" ]]
	ok $? "memory.sh tree: the memhog and its forked child" "tree '$tree', memhog '$big'"
	rb=$(mem_report $(mem_tree "${big%% *}"))
	rs=$(mem_report $(mem_tree "${small%% *}"))
	echo "mem big: $rb" >> "$LOG"
	echo "mem small: $rs" >> "$LOG"
	d_pss=$(($(kv pss_anon_kb "$rb") - $(kv pss_anon_kb "$rs")))
	d_anon=$(($(kv anon_kb "$rb") - $(kv anon_kb "$rs")))
	((d_pss >= 10240 - 200 && d_pss <= 10240 + 200))
	ok $? "memory.sh report: PSS of a forked pair counts 10 MiB of shared pages once" \
		"pss_anon difference $d_pss kB, expected 10240"
	((d_anon >= 20480 - 400 && d_anon <= 20480 + 400))
	ok $? "memory.sh report: anonymous RSS of the pair counts them twice" \
		"anon difference $d_anon kB, expected 20480"
	[[ $(kv procs "$rb") == 2 && $(kv pte_kb "$rb") -gt 0 ]]
	ok $? "memory.sh report: both processes read, page tables summed"
	stop_hogs
}

# dupscan over memhogs at a fixed address: 100 unique, 50 identical and
# 20 zero pages each. One process: 170 frames, 102 contents (100 + the
# pattern + zero). Its forked child shares the frames: nothing more. A
# second process with another seed: 100 new unique pages, 70 duplicates.
# The same seed: its 100 "unique" pages duplicate the first's too.
dupscan_check() {
	local a b c r want range=-r\ 7f0000000000-7f0000400000

	start_hog "$S/d1" -a 7f0000000000 -u 100 -s 50 -z 20 -S 1 -f > /dev/null &&
	start_hog "$S/d2" -a 7f0000000000 -u 100 -s 50 -z 20 -S 2 > /dev/null &&
	start_hog "$S/d3" -a 7f0000000000 -u 100 -s 50 -z 20 -S 1 > /dev/null || return 1
	a=$(sed 's/^ready //' "$S/d1")
	b=$(sed 's/^ready //' "$S/d2")
	c=$(sed 's/^ready //' "$S/d3")
	sleep 0.2
	for t in "${a%% *}|frames=170 contents=102 dup=68 zero=20" \
		 "$a|frames=170 contents=102 dup=68 zero=20" \
		 "${a%% *} $b|frames=340 contents=202 dup=138 zero=40" \
		 "${a%% *} $c|frames=340 contents=102 dup=238 zero=40"; do
		# shellcheck disable=SC2086
		r=$("$BIN/dupscan" $range ${t%%|*})
		want=${t#*|}
		[[ " $r " == *" $want "* ]]
		ok $? "dupscan ${t%%|*}: $want" "got: $r"
	done
	# shellcheck disable=SC2086
	r=$("$BIN/dupscan" ${a%% *})
	[[ $(kv dup "$r") -ge 68 && $(kv contents "$r") -gt 102 ]]
	ok $? "dupscan without -r: the whole process, at least the known duplicates" "got: $r"
	stop_hogs
}

mem_tools || ok 1 "memory tools: memhog did not start"
dupscan_check || ok 1 "dupscan: memhog did not start"

# --- against Dovecot -------------------------------------------------------------
USERS=4
MSGS=60
status_counts() {	# -> "user0000=N user0001=N ..." over IMAP STATUS
	python3 - "$PORT" "$USERS" <<'EOF'
import imaplib, sys
port, users = int(sys.argv[1]), int(sys.argv[2])
out = []
for u in range(users):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("user%04d" % u, "pass")
    typ, data = m.status("INBOX", "(MESSAGES)")
    out.append("user%04d=%s" % (u, data[0].decode().split("MESSAGES ")[1].rstrip(")")))
    m.logout()
print(" ".join(out))
EOF
}
files_counts() {	# -> the same from the sdbox files on disk
	local u out=""

	for ((u = 0; u < USERS; u++)); do
		out+="user$(printf %04d $u)=$(find "$S/mail/user$(printf %04d $u)/sdbox/mailboxes/INBOX/dbox-Mails" -name 'u.*' | wc -l) "
	done
	echo "${out% }"
}
sum_counts() { tr ' ' '\n' <<< "$1" | awk -F= '{ s += $2 } END { print s }'; }

dovecot_tests() {
	local pid out r before after

	for ((u = 0; u < USERS; u++)); do printf 'user%04d pass\n' $u; done > "$S/users"
	pid=$(peer_dovecot start sdbox-default "$PORT" "$S/mail" "$S/users" "$S/srv" 2>> "$LOG")
	ok $? "Dovecot $(dovecot --version | cut -d' ' -f1) starts on 127.0.0.1:$PORT" || return 1
	[[ -n $pid ]] || return 1

	out=$("$BIN/mkmail" -s 1 -n $MSGS --imap "127.0.0.1:$PORT" --password pass \
		--user-fmt user%04u --users 0-$USERS 2>> "$LOG")
	echo "$out" >> "$LOG"
	[[ $(grep -c "messages=$MSGS appended=$MSGS " <<< "$out") == "$USERS" ]]
	ok $? "mkmail appends $MSGS messages to each of $USERS INBOXes"
	before=$(status_counts)
	[[ $before == "$(files_counts)" && $(sum_counts "$before") == $((USERS * MSGS)) ]]
	ok $? "every INBOX holds $MSGS messages (STATUS and files)" "STATUS $before; files $(files_counts)"
	out=$("$BIN/loadgen" --idle -c 8 --per-user 2 --expect-exists $MSGS --hold 1 \
		"127.0.0.1:$PORT" 2>> "$LOG")
	r=$?
	echo "$out" >> "$LOG"
	[[ $r == 0 && $(kv ready "$(grep ^summary <<< "$out")") == 8 ]] &&
		grep -q '^ready connections=8 dead=0' <<< "$out"
	ok $? "loadgen --idle: 8 connections select $MSGS messages and IDLE"

	# one connection per user: the counts afterwards are exact
	out=$("$BIN/loadgen" -c $USERS --per-user 1 -d 3 -W 0.5 --min-messages 20 \
		-p "$pid" "127.0.0.1:$PORT" 2>> "$LOG")
	r=$?
	echo "$out" >> "$LOG"
	check_load "$r" "$out" "$USERS clients, 1 per user" || return 1
	after=$(status_counts)
	[[ $after == "$(files_counts)" ]]
	ok $? "after the load, STATUS matches the message files" "STATUS $after; files $(files_counts)"
	r=$(grep ^summary <<< "$out")
	(($(sum_counts "$after") == $(sum_counts "$before") + $(kv appended "$r") - $(kv expunged "$r")))
	ok $? "after the load, messages = before + appended - expunged" \
		"before $(sum_counts "$before") after $(sum_counts "$after") appended $(kv appended "$r") expunged $(kv expunged "$r")"

	# two connections per user: races between them are not errors
	out=$("$BIN/loadgen" -c 8 --per-user 2 -d 3 -W 0.5 --min-messages 20 -s 2 \
		"127.0.0.1:$PORT" 2>> "$LOG")
	r=$?
	echo "$out" >> "$LOG"
	check_load "$r" "$out" "8 clients, 2 per user"
	after=$(status_counts)
	[[ $after == "$(files_counts)" ]]
	ok $? "after the shared load, STATUS matches the message files" "STATUS $after; files $(files_counts)"

	peer_dovecot stop "$S/srv" >> "$LOG" 2>&1
	ok $? "Dovecot stops, every process of it gone"
}

check_load() {		# STATUS OUTPUT WHAT
	local s op ns

	s=$(grep ^summary <<< "$2")
	ok "$1" "loadgen ($3) exits 0"
	[[ $(kv errors "$s") == 0 ]]
	ok $? "loadgen ($3): no errors of any class" "$s"
	[[ -n $(kv tags_sent "$s") && $(kv tags_sent "$s") -gt 0 &&
	   $(kv tags_sent "$s") == "$(kv tags_checked "$s")" ]]
	ok $? "loadgen ($3): every command's tagged response checked" "$s"
	ns=""
	for op in fetch store expunge append search noop logout; do
		[[ $(kv n "$(grep "^cmd name=$op " <<< "$2")") -gt 0 ]] || ns+="$op "
	done
	[[ -z $ns ]]
	ok $? "loadgen ($3): every op ran" "none of: $ns"
	[[ -z $(kv server_cpu_s "$s") || $(kv server_procs "$s") -gt 1 ]]
	ok $? "loadgen ($3): server CPU measured over its processes" "$s"
}

dovecot_tests || ok 1 "the Dovecot tests could not go on"

# --- against a broken server: loadgen must fail ---------------------------------
fake_start() {		# MODE: starts the fake server, sets $port
	rm -f "$S/fake.port"
	python3 bench/imap/tests/fake-server.py "$1" "$S/fake.port" 2>> "$LOG" &
	FAKE=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $S/fake.port ]] && break
		sleep 0.05
	done
	port=$(cat "$S/fake.port")
}
fake_stop() {
	kill "$FAKE" 2>/dev/null
	wait "$FAKE" 2>/dev/null
	FAKE=
}
fake_test() {		# MODE WHAT DESCRIPTION [LOADGEN-ARGS]
	local mode=$1 port out r

	fake_start "$mode"
	# shellcheck disable=SC2086
	out=$(timeout 30 "$BIN/loadgen" -c 2 -d 1 -W 0 -T 3 ${4:-} \
		"127.0.0.1:$port" 2>&1)
	r=$?
	echo "$out" >> "$LOG"
	fake_stop
	[[ $r == 1 && $(kv errors "$(grep ^summary <<< "$out")") -gt 0 ]]
	ok $? "loadgen against a server that $2: exit 1, errors counted" "exit $r"
	grep -q "loadgen: conn .*$3" <<< "$out"
	ok $? "loadgen against a server that $2: the failure is described ($3)"
}
fake_test garbage "answers garbage" protocol
fake_test close "closes mid-command" closed
fake_test wrongtag "answers with a wrong tag" "tag we never sent: Z999"
fake_test flags "reports a STORE's flag wrong" "FLAGS \(lack\|still have\) it" \
	"-m store=1"
# The same answers with two connections per user are what the other
# connection's STORE could have caused: races, not errors.
fake_start flags
out=$(timeout 30 "$BIN/loadgen" -c 2 --per-user 2 -d 1 -W 0 -T 3 -m store=1 \
	"127.0.0.1:$port" 2>&1)
r=$?
echo "$out" >> "$LOG"
fake_stop
s=$(grep ^summary <<< "$out")
[[ $r == 0 && $(kv errors "$s") == 0 && $(kv races "$s") -gt 0 ]]
ok $? "loadgen, 2 connections per user: a STORE's flag reported otherwise is a race" \
	"exit $r: $s"

# no server at all (idle mode: load mode would retry for 30 s)
out=$(timeout 30 "$BIN/loadgen" --idle --hold 0.5 -c 2 -T 2 "127.0.0.1:1" 2>&1)
r=$?
[[ $r == 1 && $(kv errors_connect "$(grep ^summary <<< "$out")") == 2 ]]
ok $? "loadgen with nothing listening: exit 1, connect errors" "exit $r"

finish
rm -rf "$S"
exit 0
