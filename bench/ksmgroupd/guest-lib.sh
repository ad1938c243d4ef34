# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the SERVER-guest.sh scripts (in a guest, as root): what every
# server's run shares, so that the servers are measured the same way.
#
#   gl_begin TAG            save the KSM knobs (restored on exit), KSM on
#   gl_ksmd_fixed PTS SLEEP ksmd at a fixed pace (the peers' setting)
#   gl_insmod               load this series' ksmgroup.ko
#   gl_ksmgroupd GOV [RULE] ksmgroupd with governor GOV (builtin | off),
#                           and a group "imap" matching RULE if given
#   gl_measure SERVER_PID COMM N WINDOW
#                           N idle connections (imap-hold.py), KSM sampled
#                           until WINDOW s after the logins (sample.py,
#                           summing the processes named COMM), then the
#                           server's memory while they are still held
#
# Files in $GUEST_RESULTS: samples-TAG.csv, client-TAG.log, memory-TAG.txt
# (memory.sh report over the server's process tree, n=N), thp-TAG.txt (its
# mappings holding huge pages), free-TAG.txt, ksmgroupd-TAG.log, kernel.txt.
gl_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gl_root=$(cd "$gl_here/../.." && pwd)
gl_ksm=/sys/kernel/mm/ksm
# shellcheck source=../imap/memory.sh
. "$gl_root/bench/imap/memory.sh"

gl_restore() {
	local k

	[[ -n ${gl_cpid:-} ]] && kill "$gl_cpid" 2>/dev/null
	[[ -n ${gl_kpid:-} ]] && { kill "$gl_kpid" 2>/dev/null; wait "$gl_kpid" 2>/dev/null; }
	[[ -n ${gl_on_exit:-} ]] && $gl_on_exit
	for k in pages_to_scan sleep_millisecs run; do
		echo "${gl_saved[$k]}" > $gl_ksm/$k
	done
}

gl_begin() {
	local k

	gl_tag=$1 gl_out=$GUEST_RESULTS
	declare -gA gl_saved
	for k in run pages_to_scan sleep_millisecs; do
		gl_saved[$k]=$(cat $gl_ksm/$k)
	done
	trap gl_restore EXIT
	ip link set lo up 2>/dev/null
	ulimit -n 65536
	echo 1 > $gl_ksm/run
	gl_ksmdpid=$(pgrep -x ksmd | head -1)
}

gl_ksmd_fixed() {
	echo "$1" > $gl_ksm/pages_to_scan
	echo "$2" > $gl_ksm/sleep_millisecs
}

gl_insmod() {
	insmod "$gl_root/build/kmod/${GUEST_SERIES}/kmod/ksmgroup.ko"
}

# The bench runs a copy of ksmgroupd taken when the series started (run.sh),
# so a rebuild in the tree cannot change the daemon between runs.
gl_ksmgroupd() {
	local gov=$1 rule=${2:-} conf=/tmp/ksmgroupd.conf

	cat > $conf <<CONF
[daemon]
state_file = /tmp/ksm-settings
[governor]
mode = $gov
cpu_budget = 25%
pages_to_scan_min = 100
pages_to_scan_max = 4000
sleep_millisecs_min = 10
sleep_millisecs_max = 200
CONF
	[[ -n $rule ]] && printf '[group imap]\nmatch = %s\n' "$rule" >> $conf
	"${KSMGD_BIN:-$gl_root/build/user/ksmgroupd/ksmgroupd}" -c $conf \
		> "$gl_out/ksmgroupd-$gl_tag.log" 2>&1 &
	gl_kpid=$!
	sleep 2
	kill -0 $gl_kpid
}

# gl_thp_where PID...: the mappings holding transparent huge pages (the
# kernel's THP "always" puts them where a process did not ask for them)
gl_thp_where() {
	local p

	for p in "$@"; do
		awk -v pid="$p" '
		/^[0-9a-f]+-[0-9a-f]+ / { map = $0 }
		/^AnonHugePages:/ && $2 > 0 { print pid, $2 " kB", map }
		' "/proc/$p/smaps" 2>/dev/null
	done
}

gl_measure() {
	local spid=$1 comm=$2 n=$3 window=$4

	/usr/bin/python3 "$gl_here/imap-hold.py" "$n" "$((window + 120))" \
		> "$gl_out/client-$gl_tag.log" 2>&1 &
	gl_cpid=$!
	/usr/bin/python3 "$gl_here/sample.py" "$gl_out/samples-$gl_tag.csv" \
		"$gl_out/client-$gl_tag.log" "$window" "$gl_ksmdpid" "$comm"
	# The connections are still held: the server's memory as it stands.
	echo "n=$n $(mem_report $(mem_tree "$spid"))" > "$gl_out/memory-$gl_tag.txt"
	gl_thp_where $(mem_tree "$spid") > "$gl_out/thp-$gl_tag.txt"
	free -m > "$gl_out/free-$gl_tag.txt"
	grep -E 'MemAvailable|KSM' /proc/meminfo >> "$gl_out/free-$gl_tag.txt" 2>/dev/null
	uname -r > "$gl_out/kernel.txt"
	kill $gl_cpid 2>/dev/null
}
