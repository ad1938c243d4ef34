#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Summarise TAP files: one line per file, then exactly one closing line
# "N passed, N failed, N skipped". Exits non-zero when a test failed, a
# suite exited non-zero (listed in the --status file as "NAME STATUS"), a
# TAP file is malformed or empty, or no test ran at all.
#
# usage: scripts/tap-summary.sh [--status FILE] FILE.tap...
set -euo pipefail

status=
if [[ ${1:-} == --status ]]; then
	status=${2:?--status needs a file}
	shift 2
fi

total_pass=0 total_fail=0 total_skip=0
for f in "$@"; do
	name=$(basename "$f" .tap)
	if [[ ! -f $f ]]; then
		# An unmatched glob: no suite wrote a TAP file.
		continue
	fi
	read -r pass fail skip note < <(awk '
	/^ok( |$)/ {
		n++
		if (tolower($0) ~ /# skip/) skip++; else pass++
		next
	}
	/^not ok( |$)/ {
		n++
		if (tolower($0) ~ /# todo/) skip++; else fail++
		next
	}
	/^Bail out!/ { fail++; note = note " bailed-out" }
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; have_plan = 1 }
	END {
		if (n == 0) { fail++; note = note " no-test-results" }
		else if (!have_plan) { fail++; note = note " no-plan" }
		else if (plan != n) { fail++; note = note " plan-" plan "-but-" n "-results" }
		print pass + 0, fail + 0, skip + 0, (note == "" ? "-" : note)
	}' "$f")
	line="$name: $pass passed, $fail failed, $skip skipped"
	[[ $note == - ]] || line+=" (${note# })"
	echo "$line"
	if ((fail)); then
		grep -E '^not ok' "$f" | grep -viE '# todo' | sed 's/^/    /' | head -n 30 || true
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
done

if [[ -n $status && -f $status ]]; then
	while read -r suite rc; do
		[[ -n $suite && $rc != 0 ]] || continue
		echo "suite $suite: could not run (exit status $rc)"
		total_fail=$((total_fail + 1))
	done <"$status"
fi

rc=0
if ((total_pass + total_fail == 0)); then
	echo "no test ran"
	rc=1
fi
((total_fail == 0)) || rc=1
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit "$rc"
