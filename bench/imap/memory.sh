#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Memory figures of a server: every process of it, summed. Source it for
# the mem_* functions, or run it:
#
#   memory.sh tree PID...      PID and all its descendants, one per line
#   memory.sh report PID...    one line of key=value over those processes
#                              (pass the tree; the figures are sums):
#     procs        processes read
#     rss_kb       resident memory (double-counts shared pages)
#     pss_kb       proportional set size: a page mapped by k processes
#                  counts 1/k in each, so the sum is the memory used
#     pss_anon_kb  the anonymous part of pss_kb
#     anon_kb      anonymous resident memory (per process, summed)
#     pte_kb       page tables (VmPTE), which PSS does not include
#     thp_kb       anonymous memory in transparent huge pages
#     ksm_merging_pages, ksm_zero_pages, ksm_rmap_items, ksm_profit_b,
#     merge_any    from /proc/PID/ksm_stat (merge_any: processes whose
#                  PR_SET_MEMORY_MERGE flag is set)
#   memory.sh ksm              /sys/kernel/mm/ksm counters, key=value
#   memory.sh ksmd-cpu         CPU seconds ksmd has used so far
#   memory.sh dup PID...       dupscan over the processes (see dupscan.c)
#
# smaps_rollup and ksm_stat of other users' processes need root.

# mem_tree PID...: the processes and their descendants
mem_tree() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" '
	{
		# comm may hold spaces and ")"; the fields resume after the last ")"
		i = length($0); while (i > 0 && substr($0, i, 1) != ")") i--
		split(substr($0, i + 2), f, " ")
		pid = $1 + 0; ppid[pid] = f[2] + 0; all[pid] = 1
	}
	END {
		n = split(roots, r, " ")
		for (k = 1; k <= n; k++) if ((r[k] + 0) in all) in_[r[k] + 0] = 1
		do {
			grew = 0
			for (p in all) if (!(p in in_) && (ppid[p] in in_)) { in_[p] = 1; grew = 1 }
		} while (grew)
		for (p in in_) print p
	}' | sort -n
}

# mem_report PID...: sums over exactly these processes
mem_report() {
	awk -v pids="$*" '
	function rd(file, keys,    line, a) {
		while ((getline line < file) > 0) {
			split(line, a, /[: \t]+/)
			if (a[1] in keys) sum[keys[a[1]]] += a[2]
			if (a[1] == "ksm_merge_any" && a[2] == "yes") sum["merge_any"]++
		}
		close(file)
	}
	BEGIN {
		roll["Rss"] = "rss_kb"; roll["Pss"] = "pss_kb"
		roll["Pss_Anon"] = "pss_anon_kb"; roll["Anonymous"] = "anon_kb"
		roll["AnonHugePages"] = "thp_kb"
		st["VmPTE"] = "pte_kb"
		ks["ksm_merging_pages"] = "ksm_merging_pages"
		ks["ksm_zero_pages"] = "ksm_zero_pages"
		ks["ksm_rmap_items"] = "ksm_rmap_items"
		ks["ksm_process_profit"] = "ksm_profit_b"
		split("rss_kb pss_kb pss_anon_kb anon_kb pte_kb thp_kb ksm_merging_pages " \
		      "ksm_zero_pages ksm_rmap_items ksm_profit_b merge_any", order, " ")
		n = split(pids, p, " ")
		procs = 0
		for (i = 1; i <= n; i++) {
			if ((getline line < ("/proc/" p[i] "/smaps_rollup")) <= 0)
				continue	# gone, or not ours to read
			close("/proc/" p[i] "/smaps_rollup")
			procs++
			rd("/proc/" p[i] "/smaps_rollup", roll)
			rd("/proc/" p[i] "/status", st)
			rd("/proc/" p[i] "/ksm_stat", ks)
		}
		printf "procs=%d", procs
		for (i = 1; i in order; i++) printf " %s=%d", order[i], sum[order[i]]
		printf "\n"
	}'
}

# mem_ksm: the global KSM counters
mem_ksm() {
	local k out=""

	for k in run pages_shared pages_sharing pages_unshared pages_volatile \
		 pages_scanned full_scans general_profit ksm_zero_pages \
		 pages_to_scan sleep_millisecs; do
		[[ -r /sys/kernel/mm/ksm/$k ]] &&
			out+="$k=$(cat /sys/kernel/mm/ksm/$k) "
	done
	echo "${out% }"
}

# mem_ksmd_cpu: utime + stime of the ksmd kernel thread, in seconds
mem_ksmd_cpu() {
	local pid

	pid=$(pgrep -x ksmd | head -1)
	[[ -n $pid ]] || { echo 0; return; }
	awk -v hz="$(getconf CLK_TCK)" '{
		i = length($0); while (i > 0 && substr($0, i, 1) != ")") i--
		split(substr($0, i + 2), f, " ")
		printf "%.2f\n", (f[12] + f[13]) / hz
	}' "/proc/$pid/stat"
}

# mem_dup PID...: dupscan, found next to this script's build
mem_dup() {
	"${DUPSCAN:-$(dirname "${BASH_SOURCE[0]}")/../../build/bench/imap/bin/dupscan}" "$@"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -u
	cmd=${1:-}
	shift || true
	case $cmd in
	tree) mem_tree "$@" ;;
	report) mem_report "$@" ;;
	ksm) mem_ksm ;;
	ksmd-cpu) mem_ksmd_cpu ;;
	dup) mem_dup "$@" ;;
	*)
		echo "usage: memory.sh tree|report|dup PID... | ksm | ksmd-cpu" >&2
		exit 2
		;;
	esac
fi
