# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Sourced by the suites that gather several TAP streams (unit test
# binaries, the end-to-end runner, a guest) into one file, each result
# renumbered and prefixed with the name of its stream:
#
#   TAP=build/results/NAME.tap LOG=build/results/NAME.log
#   . scripts/tap-merge.sh
#   tap_run NAME COMMAND...        run COMMAND, merge its stdout under NAME
#   tap_merge NAME STATUS FILE     merge FILE (STATUS: its producer's exit)
#   tap_result "ok"|"not ok" TEXT  one result of the suite's own
#   tap_end SUITE                  write the plan, print the summary line
#
# A stream without a plan, or whose producer died by a signal, becomes a
# failure of its own; with TAP_STRICT=1 so does any non-zero exit (for
# producers that exit 0 whatever their results, like a guest).

tap_count=0
: >"$TAP"

tap_result() {
	tap_count=$((tap_count + 1))
	echo "$1 $tap_count - $2" >>"$TAP"
}

tap_merge() {
	local name=$1 status=$2 file=$3 line planned=no verdict rest

	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			verdict=${line%% [0-9]*}
			rest=${line#"$verdict "}
			rest=${rest#* }		# drop the old number
			rest=${rest#- }
			tap_result "$verdict" "$name: $rest"
			;;
		"1..0 # SKIP"*)
			planned=yes
			tap_result ok "$name # SKIP ${line#1..0 # SKIP }"
			;;
		1..*)
			planned=yes
			;;
		"#"*)
			echo "$line" >>"$TAP"
			;;
		esac
	done <"$file"
	if [[ $planned != yes ]] || ((status > 128)) ||
	   { [[ ${TAP_STRICT:-0} == 1 ]] && ((status != 0)); }; then
		tap_result "not ok" "$name: did not finish (exit $status)"
	fi
}

tap_run() {
	local name=$1 out status
	shift
	out=$(mktemp)
	echo "# $name" >>"$LOG"
	"$@" >"$out" 2>>"$LOG"
	status=$?
	tap_merge "$name" "$status" "$out"
	rm -f "$out"
}

tap_end() {
	echo "1..$tap_count" >>"$TAP"
	echo "$1: $tap_count tests, $(grep -c '^not ok' "$TAP") failed (TAP in $TAP)"
}
