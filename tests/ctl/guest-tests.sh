#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The ctl suite's tests that need the module, run as root inside a test
# guest (scripts/guest-run.sh): libksmgroup against the module, the netlink
# dump against sysfs, the order of `ksmgroupctl watch` events, ksmgroupctl's
# admin commands and their errors, ksmgroupd attaching by rule (exe, user,
# cgroup, fork, start-up scan; latency from exec), reload, the governor
# (raises, respects its budget, lowers) and restoring the KSM settings.
#
# usage: guest-tests.sh MODULE_KO OUTDIR
# Inserts MODULE_KO unless ksmgroup is loaded (and removes it at the end if
# it inserted it, to check the module-absent errors). Writes TAP to
# OUTDIR/ctl.tap and logs to OUTDIR/ctl-work/.
set -uo pipefail

(($# == 2)) || { echo "usage: $0 MODULE_KO OUTDIR" >&2; exit 2; }
ko=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
series=${GUEST_SERIES:-$(uname -r)}
CTL=$root/build/user/ctl/ksmgroupctl
D=$root/build/user/ksmgroupd/ksmgroupd
H=$root/build/tests/ctl/ctl-helper
T=$root/build/tests/ctl/test-lib
KSM=/sys/kernel/mm/ksm
SYS=/sys/kernel/ksmgroup
PARAMS=/sys/module/ksmgroup/parameters

mkdir -p "$out"
logs=$out/ctl-work
rm -rf "$logs"
mkdir -p "$logs"
# Rule "executables" and state live on the guest's tmpfs.
work=$(mktemp -d /tmp/ksmg-ctl.XXXXXX)
chmod 755 "$work"
raw=$logs/results
: >"$raw"

ok() { echo "ok - $*" >>"$raw"; }
not_ok() { echo "not ok - $*" >>"$raw"; }
skip() { echo "ok - $1 # SKIP $2" >>"$raw"; }
diag() { sed 's/^/# /' >>"$raw"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >>"$logs/check.log" 2>&1; then ok "$what"; else not_ok "$what"; fi
}
# wait_until SECONDS COMMAND...: poll every 0.1 s.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}
knobs() { echo "run=$(cat $KSM/run) pages_to_scan=$(cat $KSM/pages_to_scan) sleep_millisecs=$(cat $KSM/sleep_millisecs)"; }
set_knobs() { # set_knobs RUN PAGES SLEEP
	echo "$2" >$KSM/pages_to_scan && echo "$3" >$KSM/sleep_millisecs && echo "$1" >$KSM/run
}

# Background processes to kill whatever happens.
bg=()
started_module=0
read -r saved_run saved_pages saved_sleep < <(cat $KSM/run $KSM/pages_to_scan $KSM/sleep_millisecs | tr '\n' ' ')
saved_converge=
saved_sweep=
finish() {
	local p
	for p in "${bg[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[[ -n $saved_converge && -w $PARAMS/converge_ms ]] && echo "$saved_converge" >$PARAMS/converge_ms
	[[ -n $saved_sweep && -w $PARAMS/sweep_ms ]] && echo "$saved_sweep" >$PARAMS/sweep_ms
	set_knobs "$saved_run" "$saved_pages" "$saved_sleep" 2>/dev/null
	scripts_number >"$out/ctl.tap"
	rm -rf "$work"
}
scripts_number() { "$root/scripts/tap-number.sh" <"$raw"; }
trap finish EXIT

# --- module
if [[ ! -d /sys/module/ksmgroup ]]; then
	if insmod "$ko" 2>"$logs/insmod.err"; then
		started_module=1
		ok "$series: setup: insmod ${ko##*/}"
	else
		not_ok "$series: setup: insmod ${ko##*/}"
		diag <"$logs/insmod.err"
		exit 0
	fi
fi
if ! wait_until 5 test -c /dev/ksmgroup; then
	not_ok "$series: setup: /dev/ksmgroup appears"
	exit 0
fi
# Quick convergence keeps the governor tests short.
saved_converge=$(cat $PARAMS/converge_ms)
echo 1000 >$PARAMS/converge_ms
ksmd_pid=$(for p in /proc/[0-9]*; do [[ $(cat "$p/comm" 2>/dev/null) == ksmd ]] && echo "${p#/proc/}"; done | head -n1)
ksmd_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$ksmd_pid/stat"; }
hz=$(getconf CLK_TCK)

# A helper in the background whose first output line we need.
# start_helper OUTFILE ARGS...: sets $helper_pid; waits for "group=".
start_helper() {
	local outfile=$1
	shift
	"$H" "$@" >"$outfile" 2>&1 &
	helper_pid=$!
	bg+=("$helper_pid")
	wait_until 30 grep -q '^group=' "$outfile"
}
helper_field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1" | head -n1; }
stop_pid() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ======================================================================
# libksmgroup against the module
"$T" --module >"$logs/test-lib.tap" 2>&1
sed -nE "s/^(not )?ok [0-9]+ - /\\1ok - $series: lib: /p" "$logs/test-lib.tap" >>"$raw"
grep -q '^1\.\.[1-9]' "$logs/test-lib.tap" || not_ok "$series: lib: test-lib --module ran to its end"

# ======================================================================
# netlink dump == sysfs
echo "== netlink vs sysfs" >>"$logs/check.log"
start_helper "$logs/hold-a.out" hold ctl-a 3 2 11 && ha=$helper_pid
start_helper "$logs/hold-b.out" hold ctl-b 2 1 12 && hb=$helper_pid
ida=$(helper_field "$logs/hold-a.out" group)
idb=$(helper_field "$logs/hold-b.out" group)
if [[ -n $ida && -n $idb ]]; then
	# Let ksmd merge a little so figures are not all zero, then hold it
	# still: stopped ksmd and idle members give figures that stay put.
	set_knobs 1 1000 10
	sleep 2
	echo 0 >$KSM/run
	# Sweeps count up every sweep_ms; slow them down while comparing.
	saved_sweep=$(cat $PARAMS/sweep_ms)
	echo 60000 >$PARAMS/sweep_ms
	sleep 1
	python3 "$here/nl-vs-sysfs.py" "$CTL" "$ida" "$idb" 2>"$logs/nl-vs-sysfs.err" |
		sed "s/^\\(not \\)\\?ok - /&$series: netlink vs sysfs: /" >>"$raw"
	[[ -s $logs/nl-vs-sysfs.err ]] && { not_ok "$series: netlink vs sysfs: the checker ran cleanly"; diag <"$logs/nl-vs-sysfs.err"; }
	"$CTL" list >"$logs/list.txt" 2>&1
	check "$series: list (table) shows both groups by id and name" \
		bash -c "grep -Eq '^ *$ida +ctl-a ' '$logs/list.txt' && grep -Eq '^ *$idb +ctl-b ' '$logs/list.txt'"
	"$CTL" show ctl-a >"$logs/show.txt" 2>&1
	check "$series: show NAME (table) names the group and lists its 3 members" \
		bash -c "grep -q \"^group $ida 'ctl-a'\" '$logs/show.txt' && [[ \$(grep -Ec '^ +[0-9]+  ctl-helper' '$logs/show.txt') == 3 ]]"
	"$CTL" --json show "$ida" >"$logs/show.json" 2>&1
	check "$series: show --json is valid JSON" python3 -m json.tool "$logs/show.json"
	echo 1 >$KSM/run
	echo "$saved_sweep" >$PARAMS/sweep_ms
	saved_sweep=
else
	not_ok "$series: netlink vs sysfs: helper groups started"
	diag <"$logs/hold-a.out"
fi

# ======================================================================
# ksmgroupctl's admin commands and their errors, on ctl-a
echo "== admin commands" >>"$logs/check.log"
expect_exit() { # expect_exit CODE NAME COMMAND...: output in $logs/NAME.{out,err}
	local want=$1 name=$2 rc
	shift 2
	timeout 60 "$@" >"$logs/$name.out" 2>"$logs/$name.err"
	rc=$?
	echo "$name: $* -> $rc (want $want)" >>"$logs/check.log"
	((rc == want))
}
has() { grep -qF -- "$2" "$logs/$1"; }
pids_of() { cat "$SYS/$1/pids"; }
in_group() { pids_of "$1" | grep -qx "$2"; }
sleep 300 &
sleeper=$!
bg+=("$sleeper")
gone=$(sh -c 'echo $$')
if [[ -n $ida ]]; then
	check "$series: attach GROUP PID: exit 0 and the pid is a member" \
		bash -c "'$CTL' attach ctl-a $sleeper >/dev/null && grep -qx $sleeper $SYS/$ida/pids"
	if expect_exit 7 attach-again "$CTL" attach ctl-a "$sleeper" && has attach-again.err "already a member"; then
		ok "$series: attach of a member: exit 7, 'already a member'"
	else not_ok "$series: attach of a member: exit 7, 'already a member'"; diag <"$logs/attach-again.err"; fi
	if expect_exit 7 attach-json "$CTL" --json attach ctl-a "$sleeper" "$gone" &&
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["results"]; sys.exit(not (len(r)==2 and r[0]["errno"]=="EEXIST" and r[1]["errno"]=="ESRCH"))' "$logs/attach-json.out"; then
		ok "$series: attach --json of two pids: one result each, exit status of the first failure"
	else not_ok "$series: attach --json of two pids: one result each, exit status of the first failure"; diag <"$logs/attach-json.out"; fi
	check "$series: detach GROUP PID: exit 0 and the pid is gone" \
		bash -c "'$CTL' detach $ida $sleeper >/dev/null && ! grep -qx $sleeper $SYS/$ida/pids"
	if expect_exit 5 detach-again "$CTL" detach ctl-a "$sleeper"; then ok "$series: detach of a non-member: exit 5"
	else not_ok "$series: detach of a non-member: exit 5"; diag <"$logs/detach-again.err"; fi
	if expect_exit 5 attach-gone "$CTL" attach ctl-a "$gone"; then ok "$series: attach of a pid that does not exist: exit 5"
	else not_ok "$series: attach of a pid that does not exist: exit 5"; diag <"$logs/attach-gone.err"; fi
	if expect_exit 5 attach-nogroup "$CTL" attach no-such-group "$sleeper" && has attach-nogroup.err "no group with id or name 'no-such-group'"; then
		ok "$series: attach to a group that does not exist: exit 5, says so"
	else not_ok "$series: attach to a group that does not exist: exit 5, says so"; diag <"$logs/attach-nogroup.err"; fi
	sweeps=$(cat "$SYS/$ida/sweeps")
	check "$series: sweep GROUP: exit 0 and the group's sweeps go up" \
		bash -c "'$CTL' sweep ctl-a >/dev/null && (( \$(cat $SYS/$ida/sweeps) > $sweeps ))"
	nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	if expect_exit 4 attach-nobody "${nobody[@]}" "$CTL" attach ctl-a "$sleeper" && has attach-nobody.err "run as root"; then
		ok "$series: attach as an unprivileged user: exit 4, says to run as root"
	else not_ok "$series: attach as an unprivileged user: exit 4, says to run as root"; diag <"$logs/attach-nobody.err"; fi
	if expect_exit 4 sweep-nobody "${nobody[@]}" "$CTL" sweep "$ida"; then ok "$series: sweep as an unprivileged user: exit 4"
	else not_ok "$series: sweep as an unprivileged user: exit 4"; diag <"$logs/sweep-nobody.err"; fi
	if expect_exit 4 watch-nobody "${nobody[@]}" "$CTL" watch --timeout 2 && has watch-nobody.err "CAP_NET_ADMIN"; then
		ok "$series: watch as an unprivileged user: exit 4, names CAP_NET_ADMIN"
	else not_ok "$series: watch as an unprivileged user: exit 4, names CAP_NET_ADMIN"; diag <"$logs/watch-nobody.err"; fi
	check "$series: list as an unprivileged user works (dumps are not admin-only)" \
		"${nobody[@]}" "$CTL" list
	start_helper "$logs/hold-dup.out" hold ctl-a 1 0 && hdup=$helper_pid
	if expect_exit 2 show-dup "$CTL" show ctl-a && has show-dup.err "2 groups are named 'ctl-a'"; then
		ok "$series: show of a name two groups share: exit 2, asks for the id"
	else not_ok "$series: show of a name two groups share: exit 2, asks for the id"; diag <"$logs/show-dup.err"; fi
	stop_pid "$hdup"
	if expect_exit 0 version "$CTL" --json version &&
		python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["module"]; sys.exit(not (m["loaded"] and m["version"]==open("/sys/kernel/ksmgroup/version").read().strip()))' "$logs/version.out"; then
		ok "$series: version --json: module loaded, its version as sysfs says"
	else not_ok "$series: version --json: module loaded, its version as sysfs says"; fi
fi
stop_pid "$ha"
stop_pid "$hb"
stop_pid "$sleeper"

# ======================================================================
# watch: events in order
echo "== watch" >>"$logs/check.log"
"$CTL" --json watch --timeout 120 >"$logs/watch.json" 2>"$logs/watch.err" &
wpid=$!
bg+=("$wpid")
if wait_until 10 grep -q "watching ksmgroup events" "$logs/watch.err"; then
	"$H" events ctl-w >"$logs/events.out" 2>&1
	sleep 1
	kill -INT "$wpid"
	wait "$wpid"
	wrc=$?
	check "$series: watch stops on SIGINT with exit 0 (got $wrc)" test "$wrc" = 0
	python3 "$here/check-events.py" "$logs/watch.json" "$(helper_field "$logs/events.out" group)" \
		"$(helper_field "$logs/events.out" a)" "$(helper_field "$logs/events.out" b)" 2>"$logs/check-events.err" |
		sed "s/^\\(not \\)\\?ok - /&$series: /" >>"$raw"
	[[ -s $logs/check-events.err ]] && { not_ok "$series: watch: the checker ran cleanly"; diag <"$logs/check-events.err"; }
else
	not_ok "$series: watch starts listening"
	diag <"$logs/watch.err"
fi
"$CTL" watch --count 3 --timeout 60 >"$logs/watch-count.txt" 2>"$logs/watch-count.err" &
wpid=$!
bg+=("$wpid")
if wait_until 10 grep -q "watching" "$logs/watch-count.err"; then
	"$H" events ctl-w2 >/dev/null 2>&1
	wait "$wpid"
	wrc=$?
	check "$series: watch --count 3 exits 0 after exactly 3 lines, the first group_created" \
		bash -c "[[ $wrc == 0 && \$(wc -l <'$logs/watch-count.txt') == 3 ]] && head -n1 '$logs/watch-count.txt' | grep -q \"group_created *group [0-9]\""
else
	not_ok "$series: watch --count starts listening"
fi
if expect_exit 1 watch-timeout "$CTL" watch --count 5 --timeout 1 &&
	has watch-timeout.err "timed out after 1 s with 0 of 5 events"; then
	ok "$series: watch --count with too few events before --timeout: exit 1, says how many came"
else
	not_ok "$series: watch --count with too few events before --timeout: exit 1, says how many came"
	diag <"$logs/watch-timeout.err"
fi

# ======================================================================
# ksmgroupd: attach by rule
echo "== ksmgroupd rules" >>"$logs/check.log"
mkdir -p "$work/bin"
for b in probe probe-user early other newbin; do cp "$H" "$work/bin/$b"; done
chmod 755 "$work/bin" "$work/bin"/*
cg=
if [[ ! -e /sys/fs/cgroup/cgroup.controllers ]]; then
	mount -t cgroup2 none /sys/fs/cgroup 2>>"$logs/check.log"
fi
if [[ -e /sys/fs/cgroup/cgroup.controllers ]] && mkdir -p /sys/fs/cgroup/ksmgtest; then
	cg=/ksmgtest
fi
write_conf() { # write_conf FILE GOVERNOR-LINES...: groups for the rule tests
	local f=$1
	shift
	{
		echo "# SPDX-License-Identifier: GPL-2.0-or-later"
		echo "[daemon]"
		echo "state_file = $work/state/ksm-settings"
		echo "[governor]"
		printf '%s\n' "$@"
		echo "[group ctl-exe]"
		echo "match = exe=$work/bin/probe"
		echo "[group ctl-user]"
		echo "match = exe=$work/bin/probe-user user=nobody"
		echo "[group ctl-early]"
		echo "match = exe=$work/bin/early"
		[[ -n $cg ]] && { echo "[group ctl-cg]"; echo "match = cgroup=$cg"; }
	} >"$f"
}
write_conf "$work/rules.conf" "mode = off"
# A process that runs before the daemon starts.
"$work/bin/early" probe --limit-ms 30000 >"$logs/early.out" 2>&1 &
early=$!
bg+=("$early")
knobs_before=$(knobs)
# A process called ksmtuned (its comm, as for the real shell script).
cp "$(command -v sleep)" "$work/bin/ksmtuned"
"$work/bin/ksmtuned" 120 &
fake_ksmtuned=$!
bg+=("$fake_ksmtuned")
"$D" -v -c "$work/rules.conf" >"$logs/ksmgroupd-rules.log" 2>&1 &
dpid=$!
bg+=("$dpid")
if wait_until 20 grep -q "ready:" "$logs/ksmgroupd-rules.log"; then
	ok "$series: ksmgroupd starts with the rule configuration"
	check "$series: ksmgroupd warns that ksmtuned (pid $fake_ksmtuned) runs and says how to stop it" \
		grep -q "ksmtuned is running (pid $fake_ksmtuned).*systemctl disable --now ksmtuned" "$logs/ksmgroupd-rules.log"
	stop_pid "$fake_ksmtuned"
	wait "$early"
	check "$series: rule: a process running before the daemon is attached by the start-up scan" \
		grep -q "attached_ms=[0-9.]* group=ctl-early" "$logs/early.out"
	# Several execs: the latency promise is per exec.
	lat_fail=0 lat_max=0 probe_max=0 n=0
	for i in 1 2 3 4 5; do
		"$work/bin/probe" probe >"$logs/probe-$i.out" 2>&1 &
		ppid=$!
		wait "$ppid"
		n=$((n + 1))
		if ! grep -q "attached_ms=[0-9.]* group=ctl-exe" "$logs/probe-$i.out"; then
			lat_fail=1
			continue
		fi
		pm=$(helper_field "$logs/probe-$i.out" attached_ms)
		# The daemon logs right after ADD_MEMBER; the probe may be quicker.
		wait_until 5 grep -q "attached pid $ppid " "$logs/ksmgroupd-rules.log"
		# When the daemon reads the shell's fork event only after the
		# child has exec'd, the child already runs probe and is attached
		# "on fork"; the fork came before the exec, so the time from it
		# bounds the time from the exec.
		dm=$(sed -n "s/.*attached pid $ppid (.*) to group 'ctl-exe' by .* on \\(exec\\|fork\\), \\([0-9.]*\\) ms after the event.*/\\2/p" "$logs/ksmgroupd-rules.log")
		[[ -n $dm ]] || { lat_fail=1; continue; }
		lat_max=$(awk -v a="$lat_max" -v b="$dm" 'BEGIN { print (b > a) ? b : a }')
		probe_max=$(awk -v a="$probe_max" -v b="$pm" 'BEGIN { print (b > a) ? b : a }')
	done
	check "$series: rule exe=: 5 of 5 processes started after the daemon are attached to their group" test "$lat_fail" = 0
	if ((lat_fail == 0)) && awk -v m="$lat_max" 'BEGIN { exit !(m < 100) }'; then
		ok "$series: rule exe=: attached within 100 ms of exec (worst: ${lat_max} ms from the kernel's exec event, or the fork before it, to ADD_MEMBER done; ${probe_max} ms as the process itself saw it)"
	else
		not_ok "$series: rule exe=: attached within 100 ms of exec (worst: ${lat_max} ms from the exec event; ${probe_max} ms seen by the process)"
	fi
	"$work/bin/probe" probe --fork >"$logs/probe-fork.out" 2>&1
	check "$series: rule exe=: a child forked without exec joins through the fork event" \
		grep -q "child_attached_ms=[0-9.]* child_group=ctl-exe" "$logs/probe-fork.out"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$work/bin/probe-user" probe >"$logs/probe-user.out" 2>&1
	check "$series: rule user=: the process of that user is attached" \
		grep -q "attached_ms=[0-9.]* group=ctl-user" "$logs/probe-user.out"
	"$work/bin/probe-user" probe --limit-ms 1500 >"$logs/probe-user-root.out" 2>&1
	check "$series: rule user=: the same program run by another user is not" \
		grep -q "attached_ms=none" "$logs/probe-user-root.out"
	if [[ -n $cg ]]; then
		bash -c "echo \$\$ >/sys/fs/cgroup$cg/cgroup.procs && exec '$work/bin/other' probe" >"$logs/probe-cg.out" 2>&1
		check "$series: rule cgroup=: a process in the cgroup is attached" \
			grep -q "attached_ms=[0-9.]* group=ctl-cg" "$logs/probe-cg.out"
	else
		skip "$series: rule cgroup=: a process in the cgroup is attached" "no cgroup v2 in this guest"
	fi
	"$work/bin/other" probe --limit-ms 1500 >"$logs/probe-other.out" 2>&1
	check "$series: a process no rule matches is not attached" grep -q "attached_ms=none" "$logs/probe-other.out"
	check "$series: governor mode = off leaves the KSM settings alone" test "$(knobs)" = "$knobs_before"

	# --- reload
	id_exe=$(grep -lx ctl-exe "$SYS"/*/name | head -n1)
	write_conf "$work/rules.conf" "mode = off"
	printf '%s\n' "[group ctl-new]" "match = exe=$work/bin/newbin" >>"$work/rules.conf"
	kill -HUP "$dpid"
	if wait_until 10 grep -q "reloaded" "$logs/ksmgroupd-rules.log"; then
		"$work/bin/newbin" probe >"$logs/probe-new.out" 2>&1
		check "$series: SIGHUP: a group added to the file is created and its rule attaches" \
			grep -q "attached_ms=[0-9.]* group=ctl-new" "$logs/probe-new.out"
		check "$series: SIGHUP: a group that stays keeps its id" \
			test "$(grep -lx ctl-exe "$SYS"/*/name | head -n1)" = "$id_exe"
	else
		not_ok "$series: SIGHUP: the daemon reloads"
	fi
	cp "$work/rules.conf" "$work/good.conf"
	printf '%s\n' "[group ctl-bad]" "match = exe=$work/bin/x uid=0" >>"$work/rules.conf"
	badline=$(wc -l <"$work/rules.conf")
	kill -HUP "$dpid"
	if wait_until 10 grep -q "reload failed" "$logs/ksmgroupd-rules.log" &&
		grep -q "reload failed, keeping the running configuration: $work/rules.conf:$badline: match: unknown condition 'uid'" "$logs/ksmgroupd-rules.log" &&
		kill -0 "$dpid"; then
		ok "$series: SIGHUP with a bad rule: logged with file:line, the daemon keeps running"
	else
		not_ok "$series: SIGHUP with a bad rule: logged with file:line, the daemon keeps running"
		grep -E "reload|error" "$logs/ksmgroupd-rules.log" | tail -n 5 | diag
	fi
	"$work/bin/probe" probe >"$logs/probe-after.out" 2>&1
	check "$series: after a refused reload the old rules still attach" \
		grep -q "group=ctl-exe" "$logs/probe-after.out"
	kill -TERM "$dpid"
	wait "$dpid"
	drc=$?
	check "$series: ksmgroupd stops on SIGTERM with exit 0 (got $drc)" test "$drc" = 0
	check "$series: its groups are gone after it stops" \
		bash -c "! grep -qx 'ctl-exe\\|ctl-new' $SYS/*/name"
else
	not_ok "$series: ksmgroupd starts with the rule configuration"
	tail -n 20 "$logs/ksmgroupd-rules.log" | diag
	kill -TERM "$dpid" 2>/dev/null
fi

# ======================================================================
# ksmgroupd: configuration the module refuses
echo "== refused by the module" >>"$logs/check.log"
cat >"$work/sweep.conf" <<EOF
# SPDX-License-Identifier: GPL-2.0-or-later
[daemon]
state_file = $work/state/ksm-settings
[governor]
mode = off
[group ctl-sweep]
sweep_ms = 5
match = exe=/nonexistent
EOF
if expect_exit 5 sweep-refused timeout 20 "$D" -c "$work/sweep.conf" &&
	has sweep-refused.err "$work/sweep.conf:6: group 'ctl-sweep': policy or sweep_ms refused: the module accepts" &&
	has sweep-refused.err "sweep_ms 0 or 20 to 60000"; then
	ok "$series: sweep_ms the module refuses: exit 5, file:line of the group and the accepted range"
else
	not_ok "$series: sweep_ms the module refuses: exit 5, file:line of the group and the accepted range"
	diag <"$logs/sweep-refused.err"
fi
# Unprivileged: no process events (6.1) or no access to the device (6.12
# lets anyone listen to process events); either way exit 4.
chmod 644 "$work/sweep.conf"
sed -i 's/^sweep_ms = 5$/sweep_ms = 0/' "$work/sweep.conf"
if expect_exit 4 daemon-nobody timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups "$D" -c "$work/sweep.conf" &&
	grep -Eq "CAP_NET_ADMIN|permission denied" "$logs/daemon-nobody.err"; then
	ok "$series: ksmgroupd as an unprivileged user: exit 4, says permission is missing"
else
	not_ok "$series: ksmgroupd as an unprivileged user: exit 4, says permission is missing"
	diag <"$logs/daemon-nobody.err"
fi
if expect_exit 5 bad-rule-guest "$D" -n -c "$root/tests/ctl/conf/bad-match-user.conf" &&
	has bad-rule-guest.err "bad-match-user.conf:4: match: user=no-such-user-ksmg: no such user"; then
	ok "$series: a bad rule: exit 5 with file:line"
else not_ok "$series: a bad rule: exit 5 with file:line"; fi

# ======================================================================
# ksmgroupd: restoring the administrator's KSM settings
echo "== restore" >>"$logs/check.log"
gov_conf() { # gov_conf FILE BUDGET
	cat >"$1" <<EOF
# SPDX-License-Identifier: GPL-2.0-or-later
[daemon]
state_file = $work/state/ksm-settings
[governor]
cpu_budget = $2
pages_to_scan_min = 50
pages_to_scan_max = 5000
sleep_millisecs_min = 10
sleep_millisecs_max = 500
interval_ms = 500
EOF
}
gov_conf "$work/gov.conf" 10%
admin="run=0 pages_to_scan=123 sleep_millisecs=77"
idle="run=1 pages_to_scan=50 sleep_millisecs=500"
start_daemon() { # start_daemon LOG: sets $dpid, waits for ready
	"$D" -v -c "$work/gov.conf" >"$1" 2>&1 &
	dpid=$!
	bg+=("$dpid")
	wait_until 20 grep -q "ready:" "$1"
}
for sig in TERM INT; do
	set_knobs 0 123 77
	if start_daemon "$logs/ksmgroupd-restore-$sig.log"; then
		check "$series: governor: at start ksmd is idle and running ($(knobs))" test "$(knobs)" = "$idle"
		check "$series: governor: the admin's settings are in the state file while it runs" \
			grep -q "pages_to_scan=123" "$work/state/ksm-settings"
		kill -"$sig" "$dpid"
		wait "$dpid"
		check "$series: SIG$sig: ksmgroupd restores run, pages_to_scan, sleep_millisecs ($(knobs))" test "$(knobs)" = "$admin"
		check "$series: SIG$sig: and removes the state file" test ! -e "$work/state/ksm-settings"
	else
		not_ok "$series: governor: ksmgroupd starts (SIG$sig round)"
		tail -n 20 "$logs/ksmgroupd-restore-$sig.log" | diag
	fi
done
set_knobs 0 123 77
if start_daemon "$logs/ksmgroupd-crash1.log"; then
	kill -KILL "$dpid"
	wait "$dpid" 2>/dev/null
	check "$series: after SIGKILL the settings are the daemon's and the state file remains" \
		bash -c "[[ '$(knobs)' == '$idle' ]] && test -e '$work/state/ksm-settings'"
	if start_daemon "$logs/ksmgroupd-crash2.log"; then
		check "$series: the next start says it restores the settings a crashed daemon left" \
			grep -q "did not stop cleanly; restoring" "$logs/ksmgroupd-crash2.log"
		kill -TERM "$dpid"
		wait "$dpid"
		check "$series: and after it stops the admin's settings are back ($(knobs))" test "$(knobs)" = "$admin"
	else
		not_ok "$series: ksmgroupd starts after a crash"
	fi
else
	not_ok "$series: ksmgroupd starts (crash round)"
fi

# ======================================================================
# ksmgroupd: the governor
echo "== governor" >>"$logs/check.log"
budget=0.10
# share_since TICKS0 TIME0: ksmd's share of one core since then.
now_s() { date +%s.%N; }
share_since() { awk -v t0="$1" -v s0="$2" -v t1="$(ksmd_ticks)" -v s1="$(now_s)" -v hz="$hz" 'BEGIN { printf "%.3f", (t1 - t0) / hz / (s1 - s0) }'; }
if [[ -z $ksmd_pid ]]; then
	not_ok "$series: governor: ksmd found"
else
	# Control: ksmd at the governor's top rate, ungoverned, on a fresh
	# group: the share a budget has to hold back.
	start_helper "$logs/hold-control.out" hold ctl-control 4 16 21 && hc=$helper_pid
	set_knobs 1 5000 10
	t0=$(ksmd_ticks) s0=$(now_s)
	sleep 4
	control=$(share_since "$t0" "$s0")
	stop_pid "$hc"
	echo "control share at 5000 pages / 10 ms: $control" >>"$logs/check.log"

	set_knobs 0 123 77
	if start_daemon "$logs/ksmgroupd-governor.log"; then
		start_helper "$logs/hold-gov.out" hold ctl-gov 4 16 22 && hg=$helper_pid
		idg=$(helper_field "$logs/hold-gov.out" group)
		raised() { [[ $(cat $KSM/pages_to_scan) -gt 50 || $(cat $KSM/sleep_millisecs) -lt 500 ]]; }
		if wait_until 10 raised; then
			ok "$series: governor: raises the rate while the group settles ($(knobs))"
			t0=$(ksmd_ticks) s0=$(now_s) peak=$(knobs)
			converged() { [[ $(cat "$SYS/$idg/state") == converged ]]; }
			# Sample the busy window; note the highest pages_to_scan.
			deadline=$((SECONDS + 150))
			maxpages=0
			until converged || ((SECONDS > deadline)); do
				p=$(cat $KSM/pages_to_scan)
				((p > maxpages)) && maxpages=$p
				sleep 0.5
			done
			busy=$(share_since "$t0" "$s0")
			busy_s=$(awk -v s0="$s0" -v s1="$(now_s)" 'BEGIN { printf "%.1f", s1 - s0 }')
			# Converged must mean merged: the members' pages are alike,
			# so at least half of their anonymous pages must be merging.
			fig="merging_pages $(cat "$SYS/$idg/merging_pages"), rmap_items $(cat "$SYS/$idg/rmap_items"), anon_pages $(cat "$SYS/$idg/anon_pages")"
			if ! converged; then
				not_ok "$series: governor: the group converges under the budget (not after ${busy_s} s; $fig)"
			elif (($(cat "$SYS/$idg/merging_pages") * 2 >= $(cat "$SYS/$idg/anon_pages"))); then
				ok "$series: governor: the group converges under the budget, merged (after ${busy_s} s: $fig)"
			else
				not_ok "$series: governor: the group converges under the budget, merged (the module said converged after ${busy_s} s with only $fig)"
			fi
			# The budget is an average over the busy window; one
			# interval of overshoot and a clock tick of resolution
			# are the tolerance.
			limit=$(awk -v b="$budget" -v d="$busy_s" -v hz="$hz" 'BEGIN { printf "%.3f", b * 1.2 + 1 / hz / d }')
			if awk -v c="$control" -v b="$budget" 'BEGIN { exit !(c <= b * 1.5) }'; then
				skip "$series: governor: ksmd stays within its budget" "ungoverned ksmd used only $control of a core here: too light a load to test a budget of $budget"
			elif awk -v s="$busy" -v l="$limit" 'BEGIN { exit !(s <= l) }'; then
				ok "$series: governor: ksmd stays within its budget while settling (${busy} of a core over ${busy_s} s, budget $budget, limit $limit; ungoverned at the top rate: $control; highest pages_to_scan $maxpages)"
			else
				not_ok "$series: governor: ksmd stays within its budget while settling (${busy} of a core over ${busy_s} s, budget $budget, limit $limit; ungoverned: $control)"
			fi
			if wait_until 5 test "$(knobs)" = "$idle"; then
				ok "$series: governor: back to idle once the group converged ($(knobs))"
			else
				not_ok "$series: governor: back to idle once the group converged (still $(knobs))"
			fi
		else
			not_ok "$series: governor: raises the rate while the group settles (still $(knobs))"
		fi
		stop_pid "$hg"
		kill -TERM "$dpid"
		wait "$dpid"
		check "$series: governor: the admin's settings are back after it stops ($(knobs))" test "$(knobs)" = "$admin"
		grep "governor:" "$logs/ksmgroupd-governor.log" | head -n 40 >"$logs/governor-trace.txt"
	else
		not_ok "$series: governor: ksmgroupd starts"
		tail -n 20 "$logs/ksmgroupd-governor.log" | diag
	fi
fi

# ======================================================================
# without the module (only when this script loaded it)
if ((started_module)); then
	echo "$saved_converge" >$PARAMS/converge_ms
	saved_converge=
	if rmmod ksmgroup 2>"$logs/rmmod.err"; then
		ok "$series: rmmod ksmgroup after the tests"
		if expect_exit 3 nomod-ctl "$CTL" list && has nomod-ctl.err "ksmgroup module not loaded: run modprobe ksmgroup"; then
			ok "$series: without the module ksmgroupctl list: exit 3, says to run modprobe"
		else not_ok "$series: without the module ksmgroupctl list: exit 3, says to run modprobe"; fi
		if expect_exit 3 nomod-d "$D" -c "$work/gov.conf" && has nomod-d.err "module not loaded: run modprobe ksmgroup"; then
			ok "$series: without the module ksmgroupd: exit 3, says to run modprobe"
		else not_ok "$series: without the module ksmgroupd: exit 3, says to run modprobe"; fi
	else
		not_ok "$series: rmmod ksmgroup after the tests"
		diag <"$logs/rmmod.err"
	fi
fi
exit 0
