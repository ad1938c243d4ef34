#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The IMAP server benchmark (make bench; never part of make check): memory
# per idle connection with and without KSM, and throughput/latency under
# load, for every peer and variant, on this host. Needs root.
#
#   bash bench/imap/run.sh [--quick]
#
# Settings (environment):
#   PEERS="dovecot dboxd"    peers to measure; peer NAME is the function
#                            peer_NAME in bench/imap/peers/NAME.sh
#   VARIANTS_<peer>="..."    variants of that peer (default: all it offers,
#                            less the ones in SKIP_<peer>)
#   IDLE_N="100 500"         idle connections (five per user)
#   LOAD_CLIENTS="10 50 200" concurrent clients under load
#   LOAD_PER_USER=2          connections per user under load
#   LOAD_TIMEOUT=10          seconds a command may take under load
#   LOAD_VARIANTS_<peer>     variants measured under load (default: those
#                            without "hibernate", which only acts on IDLE);
#                            VARIANT+quickack runs loadgen --quickack
#   KSM_N="500"              idle sizes that get the KSM phase (all: IDLE_N)
#   KSM_IDLE_S=5             seconds to measure ksmd's share once converged
#   COLD_MSGS=5000           the cold FETCH mailbox (0: no cold FETCH);
#                            COLD_PEERS="dboxd:uring dboxd:sync dovecot"
#   ATTACH_MEDIAN=20000      attachment sizes of the generated mail
#   REPS=3                   runs of each measurement (medians reported)
#   MSGS=500                 messages per user's INBOX
#   LOAD_SECS=10 WARMUP=2    measured seconds under load, after warm-up
#   KSM=1                    idle runs start the server through ksm-exec
#                            (PR_SET_MEMORY_MERGE on the master) and, after
#                            measuring, let ksmd merge and measure again
#   KSM_PAGES=4000 KSM_SLEEP_MS=20 KSM_TIMEOUT=120   ksmd pace and patience
#   PHASES="stores idle cold load"   what to run (stores is needed by the
#                            others; cold fills its own)
#   DOCS=1                   rewrite the generated part of docs/benchmarks.md
#                            (below its "generated" marker) and the plots
#                            in docs/benchmarks/ from the results
#   BENCH_OUT=build/bench/imap   where results go
#   BENCH_WORK=/var/tmp/imap-bench   mail stores and server state (removed
#                            at the end unless KEEP_WORK=1)
#
# Phases, in this order: fill the stores; idle memory (and KSM) for every
# peer and variant; cold FETCH; throughput last, as the phase the most
# sensitive to other load on the machine. dboxd is built once at the
# start and copied to build/bench/imap/bin (peers/dboxd.sh).
#
# A peer is one function (see peers/dovecot.sh): peer_NAME variants |
# version | start VARIANT PORT MAILROOT USERS WORK (prints the master pid) |
# stop WORK. A variant's name starts with its mail format ("sdbox-...");
# variants of one format share one generated mail store, filled once over
# IMAP with mkmail. Idle runs come first on each store (they check that
# every INBOX holds MSGS messages), load runs after them (they append and
# expunge in balance).
#
# Output in build/bench/imap/: idle.txt, load.txt, cold.txt,
# ksm-series.txt (one key=value line per run), env.txt, load-errors.txt,
# summary.txt, plots (*.png) and report.md, which replaces the part of
# docs/benchmarks.md below its "generated" marker (the part above is
# written by hand: findings and the conditions of the run). Every knob
# under /sys/kernel/mm/ksm this script changes is restored when it exits,
# and so is fs.inotify.max_user_instances, raised when N needs it.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
TOP=$PWD
OUT=${BENCH_OUT:-$TOP/build/bench/imap}
BIN=$TOP/build/bench/imap/bin
WORK=${BENCH_WORK:-/var/tmp/imap-bench}
source "$TOP/bench/imap/memory.sh"
for f in "$TOP"/bench/imap/peers/*.sh; do
	# shellcheck disable=SC1090
	source "$f"
done

QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1
PEERS=${PEERS:-dovecot dboxd}
IDLE_N=${IDLE_N:-100 500}
LOAD_CLIENTS=${LOAD_CLIENTS:-10 50 200}
LOAD_PER_USER=${LOAD_PER_USER:-2}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-10}
KSM_IDLE_S=${KSM_IDLE_S:-5}
COLD_MSGS=${COLD_MSGS:-5000}
COLD_PEERS=${COLD_PEERS:-dboxd:uring dboxd:sync dovecot}
ATTACH_MEDIAN=${ATTACH_MEDIAN:-20000}
REPS=${REPS:-3}
MSGS=${MSGS:-500}
LOAD_SECS=${LOAD_SECS:-10}
WARMUP=${WARMUP:-2}
KSM=${KSM:-1}
KSM_PAGES=${KSM_PAGES:-4000}
KSM_SLEEP_MS=${KSM_SLEEP_MS:-20}
KSM_TIMEOUT=${KSM_TIMEOUT:-120}
DOCS=${DOCS:-1}
PHASES=${PHASES:-stores idle cold load}
SKIP_dovecot=${SKIP_dovecot:-}
SKIP_dboxd=${SKIP_dboxd:-}
if ((QUICK)); then
	IDLE_N=${QUICK_IDLE_N:-20}
	LOAD_CLIENTS=${QUICK_LOAD_CLIENTS:-5}
	REPS=1 MSGS=${QUICK_MSGS:-100} LOAD_SECS=3 WARMUP=1 DOCS=0
	COLD_MSGS=${QUICK_COLD_MSGS:-300}
fi
KSM_N=${KSM_N:-$IDLE_N}
PER_USER=5		# idle connections per user, as a desktop client opens them
PORT=20143

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (servers drop to a mail uid; /proc of other users)"

# --- KSM knobs: saved once, restored on every exit --------------------------
KSM_DIR=/sys/kernel/mm/ksm
declare -A KSM_SAVED=()
ksm_save() {
	local k

	for k in run pages_to_scan sleep_millisecs; do
		KSM_SAVED[$k]=$(cat "$KSM_DIR/$k")
	done
}
ksm_restore() {
	local k

	for k in pages_to_scan sleep_millisecs run; do
		[[ -n ${KSM_SAVED[$k]:-} ]] && echo "${KSM_SAVED[$k]}" > "$KSM_DIR/$k"
	done
}

# Dovecot tuned serves its N connections from N/5 imap processes under one
# uid, each holding an inotify instance: past the per-uid limit (128 by
# default) IDLE silently falls back to polling and imap-hibernate to doing
# nothing. Raised for the run when N needs it, restored on exit.
INOTIFY_KEY=fs.inotify.max_user_instances
INOTIFY_SAVED=
inotify_raise() {	# WANTED
	local cur

	cur=$(sysctl -n "$INOTIFY_KEY") || return 0
	((cur >= $1)) && return 0
	INOTIFY_SAVED=$cur
	sysctl -qw "$INOTIFY_KEY=$1" || die "cannot raise $INOTIFY_KEY"
	log "$INOTIFY_KEY raised from $cur to $1 for this run"
}

LIVE_WORKS=()
LG_PID=
cleanup() {
	local w

	[[ -n $LG_PID ]] && kill "$LG_PID" 2>/dev/null
	for w in "${LIVE_WORKS[@]}"; do
		stop_peer "$w"
	done
	((${#KSM_SAVED[@]})) && ksm_restore
	[[ -n $INOTIFY_SAVED ]] && sysctl -qw "$INOTIFY_KEY=$INOTIFY_SAVED"
	[[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers ----------------------------------------------------------------
# peer instances: "peer|work" so that cleanup can stop what is running
declare -A WORK_PEER=()
# Not to be called in $(...): it records the instance for cleanup in this
# shell. The master's pid is left in $PID.
PID=
start_peer() {		# PEER VARIANT PORT ROOT USERS WORK [WRAPPER]
	local peer=$1 variant=$2 port=$3 root=$4 users=$5 work=$6

	rm -rf "$work"
	mkdir -p "$work"
	WORK_PEER[$work]=$peer
	LIVE_WORKS+=("$work")
	PID=$(PEER_WRAPPER=${7:-} "peer_$peer" start "$variant" "$port" "$root" \
		"$users" "$work") || return 1
}

stop_peer() {		# WORK
	local work=$1 w keep=()

	[[ -n ${WORK_PEER[$work]:-} ]] || return 0
	"peer_${WORK_PEER[$work]}" stop "$work" || log "warning: $work did not stop cleanly"
	unset "WORK_PEER[$work]"
	for w in "${LIVE_WORKS[@]}"; do
		[[ $w == "$work" ]] || keep+=("$w")
	done
	LIVE_WORKS=("${keep[@]}")
}

next_port() { PORT=$((PORT + 1)); }	# not in $(...): sets PORT

# CPU seconds (utime+stime+cutime+cstime) of a process tree
tree_cpu() {
	local p sum=0 hz

	hz=$(getconf CLK_TCK)
	for p in $(mem_tree "$1"); do
		cat "/proc/$p/stat" 2>/dev/null
	done | awk -v hz="$hz" '{
		i = length($0); while (i > 0 && substr($0, i, 1) != ")") i--
		split(substr($0, i + 2), f, " ")
		s += f[12] + f[13] + f[14] + f[15]
	} END { printf "%.2f\n", s / hz }'
}

# busy CPU seconds of the whole machine so far (all cores)
host_busy() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu / {
		printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat
}

kv() {			# KEY TEXT: the value of KEY=... in a key=value line
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2" | head -1
}

variants_of() {		# PEER
	local v="VARIANTS_$1" s="SKIP_$1" out="" x

	if [[ -n ${!v:-} ]]; then
		echo "${!v}"
		return
	fi
	for x in $("peer_$1" variants); do
		[[ " ${!s:-} " == *" $x "* ]] || out+="$x "
	done
	echo "$out"
}

load_variants_of() {	# PEER
	local v="LOAD_VARIANTS_$1" out="" x

	if [[ -n ${!v:-} ]]; then
		echo "${!v}"
		return
	fi
	for x in $(variants_of "$1"); do
		[[ $x == *hibernate* ]] || out+="$x "
	done
	echo "$out"
}

max_of() { tr ' ' '\n' <<< "$*" | sort -n | tail -1; }

# --- the mail stores ----------------------------------------------------------
NUSERS=0
make_users() {		# COUNT -> $WORK/users
	local i

	NUSERS=$1
	for ((i = 0; i < NUSERS; i++)); do
		printf 'user%04d pass\n' "$i"
	done > "$WORK/users"
}

# Fills the first user's INBOX over IMAP through the peer itself (mkmail),
# then copies that mail directory to every other user: generating
# NUSERS * MSGS messages over IMAP would take longer than the measurements.
# The idle runs check that every INBOX holds MSGS messages.
populate() {		# PEER VARIANT ROOT
	local peer=$1 variant=$2 root=$3 port work pid i u first

	next_port
	port=$PORT
	work=$WORK/fill-$peer-${variant%%-*}
	log "$peer ${variant%%-*}: filling 1 of $NUSERS mailboxes with $MSGS messages"
	start_peer "$peer" "$variant" "$port" "$root" "$WORK/users" "$work" ||
		die "cannot start $peer $variant"
	first=$(head -1 "$WORK/users" | cut -d' ' -f1)
	"$BIN/mkmail" -s 1 -n "$MSGS" --attach-median "$ATTACH_MEDIAN" \
		--max-attach 262144 --imap "127.0.0.1:$port" \
		--password pass --user "$first" > "$work/mkmail" 2>&1
	stop_peer "$work"
	grep -q "messages=$MSGS appended=$MSGS " "$work/mkmail" ||
		die "mkmail failed (see $work/mkmail)"
	while read -r u _; do
		[[ $u == "$first" ]] && continue
		rm -rf "${root:?}/$u"
		cp -a "$root/$first" "$root/$u"
	done < "$WORK/users"
	sed 's/^/# /' "$work/mkmail" >&2
	echo "peer=$peer format=${variant%%-*} users=$NUSERS msgs=$MSGS" \
	     "store_mib=$(du -sm "$root" | cut -f1)" \
	     "user_mib=$(du -sm "$root/$first" | cut -f1)" >> "$OUT/env.txt"
}

# --- KSM phase ----------------------------------------------------------------
# Lets ksmd merge the server's pages; prints "ksm_* ..." figures. The
# server's processes (its tree) are the only ones with merge_any set by
# us, but ksmd also scans every other MADV_MERGEABLE area of the host
# (QEMU guests mark their RAM so), which slows it and costs it CPU.
ksm_phase() {		# MASTER TAG
	local master=$1 tag=$2 t0 now c0 c1 c2 fs0 fs m final t90 last_fs=-1
	local -a ts=() ms=()

	# runs in a subshell ($(...)): the knobs were saved by the main
	# shell, whose exit trap restores them whatever happens here
	echo "$KSM_PAGES" > "$KSM_DIR/pages_to_scan"
	echo "$KSM_SLEEP_MS" > "$KSM_DIR/sleep_millisecs"
	c0=$(mem_ksmd_cpu)
	fs0=$(cat "$KSM_DIR/full_scans")
	t0=$(date +%s.%N)
	echo 1 > "$KSM_DIR/run"
	local hist=()	# merging pages at each completed full scan
	while :; do
		sleep 1
		now=$(date +%s.%N)
		fs=$(cat "$KSM_DIR/full_scans")
		m=$(kv ksm_merging_pages "$(mem_report $(mem_tree "$master"))")
		ts+=("$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')")
		ms+=("$m")
		echo "$tag t=${ts[-1]} full_scans=$((fs - fs0)) merging_pages=$m" >> "$OUT/ksm-series.txt"
		if ((fs != last_fs)); then
			hist+=("$m")
			last_fs=$fs
		fi
		# nothing to merge (dboxd's nomerge variant, or its prctl failed):
		# ksmd has no mm to scan, full_scans stands still
		if ((fs == fs0 && m == 0)) &&
		   awk -v a="$now" -v b="$t0" 'BEGIN { exit !(a - b >= 5) }'; then
			log "nothing mergeable: ksmd has no scan to make"
			break
		fi
		# converged: four full scans, and the last two changed < 1 %
		if ((fs - fs0 >= 4 && ${#hist[@]} >= 3)); then
			local d=$((hist[-1] - hist[-2]))
			((${d#-} * 100 <= (hist[-1] > 0 ? hist[-1] : 1))) && break
		fi
		awk -v a="$now" -v b="$t0" -v l="$KSM_TIMEOUT" 'BEGIN { exit !(a - b > l) }' &&
			{ log "KSM did not settle within ${KSM_TIMEOUT}s"; break; }
	done
	c1=$(mem_ksmd_cpu)
	final=${ms[-1]}
	t90=${ts[-1]}
	for i in "${!ms[@]}"; do
		if ((ms[i] * 10 >= final * 9)); then
			t90=${ts[i]}
			break
		fi
	done
	# ksmd's share of a core once converged: KSM_IDLE_S more of scanning
	sleep "$KSM_IDLE_S"
	c2=$(mem_ksmd_cpu)
	echo "ksm_settle_s=${ts[-1]} ksm_t90_s=$t90 ksm_full_scans=$((fs - fs0))" \
	     "ksmd_cpu_s=$(awk -v a="$c1" -v b="$c0" 'BEGIN { printf "%.2f", a - b }')" \
	     "ksmd_idle_share=$(awk -v a="$c2" -v b="$c1" -v s="$KSM_IDLE_S" 'BEGIN { printf "%.3f", (a - b) / s }')" \
	     "ksm_global_sharing=$(cat "$KSM_DIR/pages_sharing")"
	echo "${KSM_SAVED[run]}" > "$KSM_DIR/run"
}

# --- one idle measurement -----------------------------------------------------
idle_run() {		# PEER VARIANT ROOT N REP
	local peer=$1 variant=$2 root=$3 n=$4 rep=$5 port work pid wrapper="" i
	local base pre post="" dup0 dup1="" ready settle=2 t0 row tree ksm=$KSM

	[[ " $KSM_N " == *" $n "* ]] || ksm=0
	next_port
	port=$PORT
	work=$WORK/srv-$peer-$variant-$n-$rep
	((KSM)) && wrapper=$BIN/ksm-exec
	[[ $variant == *hibernate* ]] && settle=9	# imap_hibernate_timeout 5 s
	start_peer "$peer" "$variant" "$port" "$root" "$WORK/users" "$work" \
		"$wrapper" || die "cannot start $peer $variant"
	pid=$PID
	sleep 1
	base=$(mem_report $(mem_tree "$pid"))
	t0=$(date +%s.%N)
	"$BIN/loadgen" --idle -c "$n" --per-user $PER_USER --expect-exists "$MSGS" \
		--ramp 16 --timeout 60 "127.0.0.1:$port" > "$work/loadgen.out" \
		2> "$work/loadgen.err" &
	LG_PID=$!
	for ((i = 0; i < 3000; i++)); do
		grep -qs '^ready ' "$work/loadgen.out" && break
		kill -0 "$LG_PID" 2>/dev/null || break
		sleep 0.1
	done
	ready=$(grep '^ready ' "$work/loadgen.out")
	[[ -n $ready ]] || die "loadgen --idle never got ready (see $work/loadgen.err)"
	sleep "$settle"
	tree=$(mem_tree "$pid")
	# shellcheck disable=SC2086
	pre=$(mem_report $tree)
	# shellcheck disable=SC2086
	dup0=$("$BIN/dupscan" $tree)
	if ((ksm)); then
		post=$(ksm_phase "$pid" "peer=$peer variant=$variant n=$n rep=$rep")
		tree=$(mem_tree "$pid")
		# shellcheck disable=SC2086
		post="$post $(mem_report $tree | sed 's/\([a-z_]*\)=/post_\1=/g')"
		# shellcheck disable=SC2086
		dup1=$("$BIN/dupscan" $tree | sed 's/\([a-z_]*\)=/post_dup_\1=/g')
	fi
	kill "$LG_PID" 2>/dev/null
	wait "$LG_PID" 2>/dev/null
	LG_PID=
	stop_peer "$work"
	row="peer=$peer variant=$variant n=$n rep=$rep ksm=$ksm"
	row+=" ready=$(kv connections "$ready") dead=$(kv dead "$ready") login_s=$(kv secs "$ready")"
	row+=" lg_errors=$(kv errors "$(grep '^summary' "$work/loadgen.out")")"
	row+=" $(sed 's/\([a-z_]*\)=/base_\1=/g' <<< "$base") $pre"
	row+=" $(sed 's/\([a-z_]*\)=/dup_\1=/g' <<< "$dup0") $post $dup1"
	row+=" loadavg=$(cut -d' ' -f1 /proc/loadavg)"
	echo "$row" >> "$OUT/idle.txt"
	log "idle $peer $variant n=$n rep=$rep: pss $(kv pss_kb "$pre") kB," \
	    "$(awk -v a="$(kv pss_kb "$pre")" -v b="$(kv pss_kb "$base")" -v n="$n" \
	       'BEGIN { printf "%.0f kB/conn", (a - b) / n }')${post:+, after KSM $(kv post_pss_kb "$post") kB}"
}

# --- one load measurement -----------------------------------------------------
load_run() {		# PEER VARIANT ROOT CLIENTS REP
	local peer=$1 variant=$2 root=$3 c=$4 rep=$5 port work pid out
	local cpu0 cpu1 busy0 busy1 lgcpu row flags=() sv=${variant%+*}

	[[ $variant == *+quickack ]] && flags+=(--quickack)
	next_port
	port=$PORT
	work=$WORK/srv-$peer-$variant-load$c-$rep
	start_peer "$peer" "$sv" "$port" "$root" "$WORK/users" "$work" ||
		die "cannot start $peer $variant"
	pid=$PID
	sleep 1
	cpu0=$(tree_cpu "$pid")
	busy0=$(host_busy)
	"$BIN/loadgen" -c "$c" --per-user "$LOAD_PER_USER" -d "$LOAD_SECS" -W "$WARMUP" \
		-T "$LOAD_TIMEOUT" \
		-s "$rep" -p "$pid" "${flags[@]}" "127.0.0.1:$port" > "$work/loadgen.out" \
		2> "$work/loadgen.err"
	busy1=$(host_busy)
	cpu1=$(tree_cpu "$pid")
	stop_peer "$work"
	out=$(grep '^summary' "$work/loadgen.out")
	[[ -n $out ]] || die "loadgen failed (see $work/loadgen.err)"
	# the first failures, for the record (a server that stalls is a result)
	head -3 "$work/loadgen.err" | sed "s/^/[$peer $variant c=$c rep=$rep] /" >> "$OUT/load-errors.txt"
	lgcpu=$(kv loadgen_cpu_s "$out")
	row="peer=$peer variant=$variant clients=$c rep=$rep $(sed 's/^summary //' <<< "$out")"
	# what else ran on the machine meanwhile (other engineers' guests...)
	row+=" host_busy_s=$(awk -v a="$busy1" -v b="$busy0" 'BEGIN { printf "%.2f", a - b }')"
	row+=" other_cpu_s=$(awk -v a="$busy1" -v b="$busy0" -v s1="$cpu1" -v s0="$cpu0" -v l="$lgcpu" \
		'BEGIN { printf "%.2f", (a - b) - (s1 - s0) - l }')"
	row+=" $(grep '^cmd ' "$work/loadgen.out" | awk '{
		for (i = 3; i <= NF; i++) { split($i, kv, "="); sub("name=", "", $2)
			if (kv[1] == "p50_ms" || kv[1] == "p99_ms" || kv[1] == "n")
				printf "%s_%s=%s ", $2, kv[1], kv[2] } }')"
	row+=" loadavg=$(cut -d' ' -f1 /proc/loadavg)"
	echo "$row" >> "$OUT/load.txt"
	log "load $peer $variant clients=$c rep=$rep: $(kv cps "$out") cmd/s," \
	    "errors $(kv errors "$out"), server CPU $(kv server_cpu_s "$out") s"
}


# --- cold FETCH -----------------------------------------------------------------
# One user, COLD_MSGS messages, filled through the peer itself; each rep
# starts the server, drops the page cache (echo 3 > drop_caches: the
# mail files, the index and the server's own binaries all come from disk)
# and fetches every message once (tools/coldfetch.py).
cold_phase() {
	local spec peer io root work pid port rep out row
	declare -A filled=()

	for spec in $COLD_PEERS; do
		peer=${spec%%:*}
		io=${spec#*:}
		[[ $io == "$spec" ]] && io=default
		[[ " $PEERS " == *" $peer "* ]] || continue
		root=$WORK/cold-$peer
		echo "cold0000 pass" > "$WORK/cold-users"
		if [[ -z ${filled[$peer]:-} ]]; then
			next_port
			port=$PORT
			work=$WORK/cold-fill-$peer
			log "$peer: filling one INBOX with $COLD_MSGS messages"
			start_peer "$peer" "$(cold_variant "$peer")" "$port" "$root" \
				"$WORK/cold-users" "$work" || die "cannot start $peer"
			"$BIN/mkmail" -s 7 -n "$COLD_MSGS" --attach-median "$ATTACH_MEDIAN" \
				--max-attach 262144 --imap "127.0.0.1:$port" --password pass \
				--user cold0000 > "$work/mkmail" 2>&1 ||
				die "mkmail failed (see $work/mkmail)"
			stop_peer "$work"
			filled[$peer]=1
			echo "cold peer=$peer msgs=$COLD_MSGS store_mib=$(du -sm "$root" | cut -f1)" >> "$OUT/env.txt"
		fi
		for ((rep = 1; rep <= REPS; rep++)); do
			next_port
			port=$PORT
			work=$WORK/cold-$peer-$io-$rep
			[[ $io == default ]] || export DBOXD_STORAGE_IO=$io
			start_peer "$peer" "$(cold_variant "$peer")" "$port" "$root" \
				"$WORK/cold-users" "$work" || die "cannot start $peer"
			unset DBOXD_STORAGE_IO
			sync
			echo 3 > /proc/sys/vm/drop_caches
			out=$(python3 "$TOP/bench/imap/tools/coldfetch.py" "127.0.0.1:$port" \
				cold0000 pass 2> "$work/coldfetch.err") ||
				log "warning: cold FETCH $peer $io failed: $(tail -1 "$work/coldfetch.err")"
			stop_peer "$work"
			row="peer=$peer io=$io rep=$rep $out loadavg=$(cut -d' ' -f1 /proc/loadavg)"
			echo "$row" >> "$OUT/cold.txt"
			log "cold $peer $io rep=$rep: $out"
		done
	done
}
cold_variant() {	# PEER: the variant cold FETCH runs (the first sdbox one)
	variants_of "$1" | tr ' ' '\n' | grep -m1 '^sdbox'
}

# --- main ---------------------------------------------------------------------
make -C bench/imap -s -j2 >/dev/null || die "build failed"
if [[ " $PEERS " == *" dboxd "* ]]; then
	# once, from the tree as it is now; the copy is what every run uses
	make -C user/dboxd -s -j2 >/dev/null 2>&1 || die "dboxd build failed"
	cp build/user/dboxd/dboxd "$BIN/dboxd"
	echo "$(git rev-parse --short HEAD 2>/dev/null)$(git status --porcelain user/dboxd user/dbox 2>/dev/null | grep -q . && echo '+local-changes')" \
		> "$BIN/dboxd.version"
fi
mkdir -p "$OUT" "$WORK"
chmod 755 "$WORK"
rm -f "$OUT"/{idle,load,ksm-series,env,cold,load-errors}.txt
T_START=$(date +%s)
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host=$(uname -n) kernel=$(uname -r)"
	echo "cpu=$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1 | tr ' ' '_') cores=$(nproc)"
	echo "mem_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
	echo "os=$(. /etc/os-release; echo "$PRETTY_NAME" | tr ' ' '_')"
	echo "thp=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)"
	echo "settings=quick:$QUICK,idle_n:${IDLE_N// /+},ksm_n:${KSM_N// /+},load_clients:${LOAD_CLIENTS// /+},load_per_user:$LOAD_PER_USER,reps:$REPS,msgs:$MSGS,attach_median:$ATTACH_MEDIAN,load_secs:$LOAD_SECS,warmup:$WARMUP,ksm:$KSM,ksm_pages:$KSM_PAGES,ksm_sleep_ms:$KSM_SLEEP_MS,cold_msgs:$COLD_MSGS"
	for peer in $PEERS; do
		echo "peer=$peer version=$("peer_$peer" version | tr ' ' '_')"
	done
} > "$OUT/env.txt"

((KSM)) && ksm_save
max_n=$(max_of $IDLE_N)
inotify_raise $((max_n / PER_USER + 128))
max_c=$(max_of $LOAD_CLIENTS)
make_users $(max_of $(((max_n + PER_USER - 1) / PER_USER)) \
	$(((max_c + LOAD_PER_USER - 1) / LOAD_PER_USER)))

formats_of() { for v in $(variants_of "$1"); do echo "${v%%-*}"; done | awk '!seen[$0]++'; }

# 1. the stores, one per peer and format
[[ " $PHASES " == *" stores "* ]] && for peer in $PEERS; do
	declare -F "peer_$peer" >/dev/null || die "no peer_$peer (bench/imap/peers/$peer.sh)"
	for fmt in $(formats_of "$peer"); do
		first=$(variants_of "$peer" | tr ' ' '\n' | grep -m1 "^$fmt-")
		populate "$peer" "$first" "$WORK/mail-$peer-$fmt"
	done
done
# 2. idle memory and KSM
[[ " $PHASES " == *" idle "* ]] && for peer in $PEERS; do
	for v in $(variants_of "$peer"); do
		for n in $IDLE_N; do
			for ((rep = 1; rep <= REPS; rep++)); do
				idle_run "$peer" "$v" "$WORK/mail-$peer-${v%%-*}" "$n" "$rep"
			done
		done
	done
done
# 3. cold FETCH
[[ " $PHASES " == *" cold "* ]] && ((COLD_MSGS > 0)) && cold_phase
# 4. throughput and latency, last; reps interleaved across peers so that
# a burst of other load on the machine does not hit one peer only
[[ " $PHASES " == *" load "* ]] && for c in $LOAD_CLIENTS; do
	for ((rep = 1; rep <= REPS; rep++)); do
		for peer in $PEERS; do
			for v in $(load_variants_of "$peer"); do
				load_run "$peer" "$v" "$WORK/mail-$peer-${v%%-*}" "$c" "$rep"
			done
		done
	done
done
echo "elapsed_s=$(($(date +%s) - T_START))" >> "$OUT/env.txt"

python3 bench/imap/summarise.py "$OUT" || die "summarise failed"
if ((DOCS)); then
	bash bench/imap/publish.sh "$OUT" || die "cannot update docs/benchmarks.md"
	log "wrote docs/benchmarks.md and docs/benchmarks/*.png"
fi
log "done in $(($(date +%s) - T_START)) s; results in $OUT"
