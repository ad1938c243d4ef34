#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Number unnumbered result lines ("ok - x", "not ok - x") read from stdin
# and end with the plan line; "#" lines pass through. Writes TAP to stdout.
set -euo pipefail
awk '
/^(not )?ok( |$)/ {
	n++
	okness = ($1 == "ok") ? "ok" : "not ok"
	rest = $0
	sub(/^(not )?ok( [0-9]+)?( -)? ?/, "", rest)
	print okness " " n " - " rest
	next
}
/^#/ { print; next }
/^[[:space:]]*$/ { next }
{ print "# " $0 }
END { print "1.." n }
'
