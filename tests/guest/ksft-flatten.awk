# SPDX-License-Identifier: GPL-2.0-or-later
# Turn the TAP of one kselftest_harness binary into flat result lines
# "ok - PREFIX: name [# SKIP reason]" (unnumbered; the suite numbers them).
# Only top-level result lines count: diagnostics and nested output start
# with "#". Prints a "not ok" when the binary ran fewer tests than it
# planned, or when its exit status (variable rc) says something the result
# lines do not.
#
# usage: awk -v prefix="6.1: ksmg_uapi" -v rc=STATUS -f ksft-flatten.awk OUTPUT
/^1\.\.[0-9]+/ {
	planned = substr($1, 4) + 0
	have_plan = 1
	next
}
/^Bail out!/ {
	print "not ok - " prefix ": bailed out: " substr($0, 10)
	failed++
	next
}
/^(not )?ok [0-9]+ / {
	okness = ($1 == "ok") ? "ok" : "not ok"
	line = $0
	sub(/^(not )?ok [0-9]+ (- )?/, "", line)
	directive = ""
	if (match(line, / # (SKIP|skip|TODO|todo|XFAIL|xfail)( |$)/)) {
		directive = substr(line, RSTART)
		line = substr(line, 1, RSTART - 1)
	}
	sub(/^global\./, "", line)
	# An XFAIL is a pass; keep the word as text, not as a TAP directive.
	if (directive ~ /^ # (XFAIL|xfail)/)
		directive = " (" substr(directive, 4) ")"
	print okness " - " prefix ": " line directive
	ran++
	if (okness == "not ok")
		failed++
	else if (directive ~ /^ # (SKIP|skip)/)
		skipped++
	next
}
END {
	if (have_plan && ran < planned) {
		print "not ok - " prefix ": ran " ran " of " planned " planned tests (exit status " rc ")"
		exit
	}
	if (ran == 0) {
		if (rc == 4)
			print "ok - " prefix " # SKIP the binary skipped as a whole"
		else
			print "not ok - " prefix ": printed no test result (exit status " rc ")"
		exit
	}
	# 0 = pass, 4 = KSFT_SKIP, 1 = KSFT_FAIL backed by a "not ok" line.
	if (rc != 0 && rc != 4 && !(rc == 1 && failed))
		print "not ok - " prefix ": exited with status " rc
}
