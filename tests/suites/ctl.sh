#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ctl suite: libksmgroup, ksmgroupctl and ksmgroupd.
#
# Host part (build/results/ctl.tap): what needs no module, since the host
# never has it: library argument checks, the JSON writer, ksmgroupctl's
# errors and exit codes with the module absent, ksmgroupd's configuration
# parser (good files, and bad ones whose line 2 says "# expect: LINE: text"),
# install and pkg-config, man pages against the code. The host's
# /sys/kernel/mm/ksm is compared before and after: nothing may change it.
#
# Guest part (build/results/ctl-guest-SERIES.tap): tests/ctl/guest-tests.sh
# in a QEMU guest of each series through scripts/guest-run.sh, with the
# module built by scripts/module-build.sh. CTL_GUEST=0 skips it;
# CTL_SERIES picks the series (default "6.1 6.12").
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
results=$root/build/results
work=$root/build/tests/ctl/host
mkdir -p "$results"
rm -rf "$work"
mkdir -p "$work"
tap=$work/results
: >"$tap"

ok() { echo "ok - $*" >>"$tap"; }
not_ok() { echo "not ok - $*" >>"$tap"; }
diag() { sed 's/^/# /' >>"$tap"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >>"$work/check.log" 2>&1; then ok "$what"; else not_ok "$what"; fi
}
finish() {
	scripts/tap-number.sh <"$tap" >"$results/ctl.tap"
	echo "ctl: $(grep -c '^ok' "$results/ctl.tap") ok, $(grep -c '^not ok' "$results/ctl.tap") not ok (build/results/ctl.tap)"
}

B=$root/build/user
T=$root/build/tests/ctl
CTL=$B/ctl/ksmgroupctl
D=$B/ksmgroupd/ksmgroupd
CONF=$root/tests/ctl/conf

# --- the host's KSM settings, to prove at the end we left them alone
ksm_snapshot() {
	local f
	for f in /sys/kernel/mm/ksm/*; do
		[[ -r $f && -f $f ]] && printf '%s=%s\n' "${f##*/}" "$(cat "$f" 2>/dev/null)"
	done | grep -Ev '^(full_scans|pages_scanned|pages_shared|pages_sharing|pages_unshared|pages_volatile|pages_skipped|stable_node_chains|stable_node_dups|ksm_zero_pages|general_profit)='
}
ksm_snapshot >"$work/ksm.before"

# --- build
if make -C tests/ctl >"$work/build.log" 2>&1; then
	ok "build: libksmgroup, ksmgroupctl, ksmgroupd and the test programs"
else
	not_ok "build: libksmgroup, ksmgroupctl, ksmgroupd and the test programs (build/tests/ctl/host/build.log)"
	grep -E 'error|Error' "$work/build.log" | head -n 20 | diag
	finish
	exit 0
fi

# --- libksmgroup
"$T/test-lib" >"$work/test-lib.tap" 2>&1
grep -E '^(not )?ok ' "$work/test-lib.tap" | sed -E 's/^(not )?ok [0-9]+ - /\1ok - lib: /' >>"$tap"
grep -q '^1\.\.[1-9]' "$work/test-lib.tap" || not_ok "lib: test-lib ran to its end"

# --- JSON writer
"$T/test-json" >"$work/json.out" && "$T/test-json" --hex >"$work/json.hex"
check "json: the writer's document is valid JSON" python3 -m json.tool "$work/json.out"
check "json: strings round-trip, invalid UTF-8 becomes U+FFFD, values as written" \
	python3 tests/ctl/check-json.py "$work/json.out" "$work/json.hex"

# --- ksmgroupctl without the module
# expect_exit CODE STDOUT STDERR COMMAND...: run, compare the exit status.
expect_exit() {
	local want=$1 out=$2 err=$3 rc
	shift 3
	"$@" >"$out" 2>"$err"
	rc=$?
	echo "$* -> $rc (want $want)" >>"$work/check.log"
	((rc == want))
}
contains() { grep -qF -- "$2" "$1"; }

loaded=$("$CTL" --json version 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["module"]["loaded"])' 2>/dev/null)
if [[ $loaded == False ]]; then
	for cmd in "list" "show imap" "watch" "attach imap 1" "detach imap 1" "sweep imap"; do
		# shellcheck disable=SC2086
		if expect_exit 3 "$work/o" "$work/e" "$CTL" $cmd &&
			contains "$work/e" "ksmgroup module not loaded: run modprobe ksmgroup"; then
			ok "ctl: '$cmd' without the module: exit 3, 'module not loaded: run modprobe ksmgroup'"
		else
			not_ok "ctl: '$cmd' without the module: exit 3, 'module not loaded: run modprobe ksmgroup'"
			diag <"$work/e"
		fi
	done
	expect_exit 3 "$work/list.json" "$work/e" "$CTL" --json list
	check "ctl: --json list without the module: exit 3 and a valid JSON error object" \
		python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(not (e["exit_code"]==3 and e["errno"]=="ENOPKG" and "modprobe" in e["message"]))' "$work/list.json"
else
	not_ok "ctl: the host must not have the ksmgroup family (version says loaded=$loaded)"
fi
if expect_exit 0 "$work/version.json" "$work/e" "$CTL" --json version; then
	check "ctl: --json version works without the module and is valid JSON" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["api_version"]==1 and d["module"]["loaded"] is False and d["module"]["version"] is None))' "$work/version.json"
else
	not_ok "ctl: --json version works without the module and is valid JSON"
fi
check "ctl: version (human) says the module is not loaded" \
	bash -c "'$CTL' version | grep -qx 'module: not loaded'"

usage_case() { # usage_case WHAT ARGS...: exit 2 and a message naming --help
	local what=$1
	shift
	if expect_exit 2 "$work/o" "$work/e" "$CTL" "$@" && contains "$work/e" "ksmgroupctl --help"; then
		ok "ctl usage: $what: exit 2 with a message"
	else
		not_ok "ctl usage: $what: exit 2 with a message"
		diag <"$work/e"
	fi
}
usage_case "no command"
usage_case "unknown command" frobnicate
usage_case "attach without pids" attach imap
usage_case "attach with a pid that is not a number" attach imap 12x
usage_case "attach with pid 0" attach imap 0
usage_case "attach with a negative pid" attach imap -- -5
usage_case "show without a group" show
usage_case "show with two groups" show a b
usage_case "list with an argument" list extra
usage_case "--count 0" --count 0 watch
usage_case "--count on list" --count 3 list
usage_case "--timeout not a number" --timeout soon watch
usage_case "unknown option" --frob list
if expect_exit 2 "$work/o" "$work/e" "$CTL" --json frobnicate &&
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["error"]["exit_code"] != 2)' "$work/o"; then
	ok "ctl usage: --json usage errors are JSON error objects too"
else
	not_ok "ctl usage: --json usage errors are JSON error objects too"
fi
if expect_exit 0 "$work/help" "$work/e" "$CTL" --help &&
	grep -q 'attach  GROUP PID' "$work/help" && grep -q 'watch' "$work/help"; then
	ok "ctl: --help lists the commands"
else
	not_ok "ctl: --help lists the commands"
fi

# --- exit codes: code and man pages agree
# enum_codes HEADER PREFIX: the numbers of an enum's PREFIX* entries.
enum_codes() { sed -nE "s/^[[:space:]]*$2[A-Z_]+[[:space:]]*=[[:space:]]*([0-9]+),.*/\1/p" "$1"; }
man_codes() { # the .TP/.B numbers of a man page's EXIT STATUS section
	awk '/^\.SH EXIT STATUS/ {on=1; next} /^\.SH/ {on=0} on && /^\.B [0-9]+$/ {print $2}' "$1"
}
check_codes() { # check_codes NAME HEADER PREFIX MANPAGE
	local code=$(enum_codes "$2" "$3" | sort -n | tr '\n' ' ') man=$(man_codes "$4" | sort -n | tr '\n' ' ')
	echo "$1: code [$code] man [$man]" >>"$work/check.log"
	[[ -n $code && $code == "$man" ]]
}
check "ctl: every exit status in ctl.h is documented in ksmgroupctl(8), and no other" \
	check_codes ksmgroupctl user/ctl/ctl.h KSMG_EXIT_ user/man/ksmgroupctl.8
check "ksmgroupd: every exit status in ksmgd.h is documented in ksmgroupd(8), and no other" \
	check_codes ksmgroupd user/ksmgroupd/ksmgd.h KSMGD_EXIT_ user/man/ksmgroupd.8
for page in user/man/*.[0-9]; do
	if command -v groff >/dev/null; then
		check "man: ${page##*/} formats without groff warnings" \
			bash -c "out=\$(LC_ALL=C groff -t -man -ww -z '$page' 2>&1); echo \"\$out\"; [[ -z \$out ]]"
	else
		ok "man: ${page##*/} formats without groff warnings # SKIP groff not installed"
	fi
done

# --- ksmgroupd's configuration
for f in "$CONF"/good-*.conf user/ksmgroupd/ksmgroupd.conf; do
	if expect_exit 0 "$work/o" "$work/e" "$D" -n -c "$f" && contains "$work/e" "configuration OK"; then
		ok "config: ${f#"$root"/} is accepted by ksmgroupd -n"
	else
		not_ok "config: ${f#"$root"/} is accepted by ksmgroupd -n"
		diag <"$work/e"
	fi
done
for f in "$CONF"/bad-*.conf; do
	expect=$(sed -n 's/^# expect: //p' "$f")
	name=${f#"$root"/}
	if [[ -z $expect ]]; then
		not_ok "config: $name has an '# expect:' line"
		continue
	fi
	if expect_exit 5 "$work/o" "$work/e" "$D" -n -c "$f" &&
		contains "$work/e" "ksmgroupd: $f:$expect"; then
		ok "config: $name: exit 5, '$f:${expect%%:*}: ...'"
	else
		not_ok "config: $name: exit 5 and '$f:$expect'"
		diag <"$work/e"
	fi
done
if expect_exit 5 "$work/o" "$work/e" "$D" -n -c "$work/does-not-exist.conf" &&
	contains "$work/e" "$work/does-not-exist.conf: cannot open: No such file or directory"; then
	ok "config: a missing file: exit 5 naming the file"
else
	not_ok "config: a missing file: exit 5 naming the file"
fi
# The effective configuration (-n -v) is itself a valid file that reads back
# to the same values.
roundtrip() {
	"$D" -n -v -c "$1" >"$work/dump1.conf" 2>/dev/null &&
		"$D" -n -v -c "$work/dump1.conf" >"$work/dump2.conf" 2>/dev/null &&
		diff <(sed -e 1d -e 's/ *# line.*//' "$work/dump1.conf") <(sed -e 1d -e 's/ *# line.*//' "$work/dump2.conf")
}
check "config: the effective configuration of good-full.conf reads back unchanged" roundtrip "$CONF/good-full.conf"
# The example file documents every default in "#key = value" lines: they
# must be the defaults the parser really applies.
defaults_documented() {
	local missing=0 line
	"$D" -n -v -c "$CONF/good-empty.conf" 2>/dev/null | grep ' = ' >"$work/defaults"
	while read -r line; do
		line=${line/20.0%/20%}
		grep -qxF "#$line" user/ksmgroupd/ksmgroupd.conf || { echo "undocumented default: $line"; missing=1; }
	done <"$work/defaults"
	[[ -s $work/defaults ]] && ((missing == 0))
}
check "config: every default is the one user/ksmgroupd/ksmgroupd.conf documents" defaults_documented
settings_in_man() {
	local missing=0 key
	for key in $(cut -d' ' -f1 "$work/defaults") match; do
		grep -q "^\.B $key\$" user/man/ksmgroupd.conf.5 || { echo "$key missing from ksmgroupd.conf.5"; missing=1; }
	done
	((missing == 0))
}
check "config: every setting is described in ksmgroupd.conf(5)" settings_in_man

# --- ksmgroupd without the module (never touching the host's KSM)
cat >"$work/run.conf" <<EOF
# SPDX-License-Identifier: GPL-2.0-or-later
[daemon]
state_file = $work/state/ksm-settings
[group t]
match = exe=/nonexistent/worker
EOF
if expect_exit 3 "$work/o" "$work/e" timeout 20 "$D" -c "$work/run.conf" &&
	contains "$work/e" "ksmgroup module not loaded: run modprobe ksmgroup"; then
	ok "ksmgroupd: without the module: exit 3, 'module not loaded: run modprobe ksmgroup'"
else
	not_ok "ksmgroupd: without the module: exit 3, 'module not loaded: run modprobe ksmgroup'"
	diag <"$work/e"
fi
check "ksmgroupd: without the module it wrote no state file" test ! -e "$work/state/ksm-settings"
if expect_exit 2 "$work/o" "$work/e" "$D" -x && contains "$work/e" "usage: ksmgroupd"; then
	ok "ksmgroupd: a bad option: exit 2 and the usage"
else
	not_ok "ksmgroupd: a bad option: exit 2 and the usage"
fi
if expect_exit 2 "$work/o" "$work/e" "$D" stray && contains "$work/e" "unexpected argument 'stray'"; then
	ok "ksmgroupd: a stray argument: exit 2"
else
	not_ok "ksmgroupd: a stray argument: exit 2"
fi

# --- install, pkg-config, and a program built against the installed library
dest=$work/destdir
installed() {
	make -C user/lib install DESTDIR="$dest" PREFIX=/usr >/dev/null &&
		make -C user/ctl install DESTDIR="$dest" PREFIX=/usr >/dev/null &&
		make -C user/ksmgroupd install DESTDIR="$dest" PREFIX=/usr >/dev/null
}
check "install: make install with DESTDIR puts everything under it" installed
check "install: the uAPI header is installed as <linux/ksmgroup.h>, unchanged" \
	cmp kmod/uapi/ksmgroup.h "$dest/usr/include/linux/ksmgroup.h"
check "install: binaries, man pages, unit and example config are installed" \
	test -x "$dest/usr/sbin/ksmgroupctl" -a -x "$dest/usr/sbin/ksmgroupd" -a \
	-f "$dest/usr/share/man/man3/libksmgroup.3" -a -f "$dest/usr/share/man/man8/ksmgroupctl.8" -a \
	-f "$dest/usr/share/man/man8/ksmgroupd.8" -a -f "$dest/usr/share/man/man5/ksmgroupd.conf.5" -a \
	-f "$dest/lib/systemd/system/ksmgroupd.service" -a -f "$dest/etc/ksmgroupd.conf"
cat >"$work/pc-test.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <ksmgroup.h>
#include <stdio.h>

int main(void)
{
	struct ksmg_group *g;
	const char *error;

	/* Built against the installed header and library only. */
	if (ksmg_group_open("/nonexistent", &g, &error) == 0 || errno != ENOENT)
		return 1;
	printf("%s %d %s\n", KSMG_LIB_VERSION, KSMG_API_VERSION, error);
	return ksmg_name_check("imap");
}
EOF
pc_build() {
	local flags
	flags=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest/usr/lib/pkgconfig pkg-config --cflags --libs ksmgroup) &&
		echo "pkg-config: $flags" &&
		cc -Wall -Werror -o "$work/pc-test" "$work/pc-test.c" $flags &&
		LD_LIBRARY_PATH=$dest/usr/lib "$work/pc-test" &&
		LD_LIBRARY_PATH=$dest/usr/lib ldd "$work/pc-test" >"$work/pc-test.ldd" &&
		grep -q "$dest/usr/lib/libksmgroup.so.1" "$work/pc-test.ldd"
}
check "install: a program builds with pkg-config ksmgroup and runs against libksmgroup.so.1" pc_build
check "install: libksmgroup.so exports only ksmg_ symbols" \
	bash -c "! nm -D --defined-only '$B/lib/libksmgroup.so' | awk '\$2 == \"T\" {print \$3}' | grep -v '^ksmg_'"

# --- the host's KSM settings are as we found them
ksm_snapshot >"$work/ksm.after"
if diff "$work/ksm.before" "$work/ksm.after" >"$work/ksm.diff"; then
	ok "host: /sys/kernel/mm/ksm settings unchanged by the suite"
else
	not_ok "host: /sys/kernel/mm/ksm settings unchanged by the suite"
	diag <"$work/ksm.diff"
fi

finish

# --- guest part
[[ ${CTL_GUEST:-1} == 0 ]] && exit 0
bash tests/ctl/guest-run.sh ${CTL_SERIES:-}
exit 0
