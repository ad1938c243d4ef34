#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Interoperability with Dovecot 2.3 (Debian's dovecot-core), both ways and
# both formats:
#   mail we write -> doveadm force-resync -> doveadm fetch gives the same
#   messages (GUIDs, sizes, bodies);
#   mail Dovecot writes (doveadm save) -> we list, read and match it.
# Dovecot refuses to run mail access as root, so the stores are handed to
# uid 65534 (nobody) for doveadm and read back by us as root.
#
# usage: test-interop.sh BUILD_DIR   (holds dboxtool and tests/gen-mail)
# TAP on stdout.

set -u
BUILD=${1:?usage: test-interop.sh BUILD_DIR}
TOOL=$BUILD/dboxtool
GEN=$BUILD/tests/gen-mail
MAIL_UID=65534

n=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

if ! command -v doveadm >/dev/null; then
	echo "1..0 # SKIP doveadm (dovecot-core) is not installed"
	exit 0
fi
if [[ $(id -u) != 0 ]]; then
	echo "1..0 # SKIP needs root to hand stores to uid $MAIL_UID"
	exit 0
fi

WORK=$(mktemp -d /tmp/dbox-interop.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home" "$WORK/msgs"
chown "$MAIL_UID:$MAIL_UID" "$WORK/home"
chmod 755 "$WORK"

for i in $(seq 1 20); do
	"$GEN" "$i" $((300 + i * 1500)) > "$WORK/msgs/$i.eml"
done

conf() {	# conf FORMAT ROOT -> path of a doveadm config
	local f=$WORK/$1-$(basename "$2").conf
	cat > "$f" <<CONF
mail_location = $1:$2
mail_uid = $MAIL_UID
mail_gid = $MAIL_UID
first_valid_uid = 1
first_valid_gid = 1
log_path = $WORK/dovecot.log
ssl = no
CONF
	echo "$f"
}

dv() {		# dv CONF doveadm-args...
	local c=$1
	shift
	USER=nobody HOME=$WORK/home doveadm -c "$c" "$@"
}

# "GUID\n" lines of one mailbox, sorted, as Dovecot sees it
dv_guids() {
	dv "$1" fetch guid mailbox "$2" | sed -n 's/^guid: //p' | sort
}

our_guids() {
	"$TOOL" -f "$1" "$2" dump "$3" 2>/dev/null |
		sed -n 's/^[0-9]* guid=\([^ ]*\) .*/\1/p' | sort
}

ours_to_dovecot() {
	local fmt=$1 root=$WORK/ours-$fmt c bad=0 uid guid box

	"$TOOL" -f "$fmt" "$root" create "Sub/Entwürfe" &&
	"$TOOL" -f "$fmt" "$root" append INBOX "$WORK"/msgs/{1..15}.eml >/dev/null &&
	"$TOOL" -f "$fmt" "$root" append "Sub/Entwürfe" "$WORK"/msgs/{16..20}.eml >/dev/null &&
	"$TOOL" -f "$fmt" "$root" subscribe "Sub/Entwürfe"
	ok $? "$fmt: we write 20 messages into two mailboxes"
	chown -R "$MAIL_UID:$MAIL_UID" "$root"
	c=$(conf "$fmt" "$root")
	dv "$c" force-resync '*' 2>>"$WORK/resync.log"
	ok $? "$fmt: doveadm force-resync accepts our store"
	for box in INBOX "Sub/Entwürfe"; do
		[[ -n $(our_guids "$fmt" "$root" "$box") &&
		   $(dv_guids "$c" "$box") == $(our_guids "$fmt" "$root" "$box") ]]
		ok $? "$fmt: Dovecot finds the same messages (GUIDs) in $box"
	done
	# every body, byte for byte (Dovecot prints LF, we serve CRLF)
	while read -r uid guid; do
		dv "$c" fetch text mailbox INBOX guid "$guid" | tail -c +7 \
			> "$WORK/dv.txt"
		"$TOOL" -f "$fmt" "$root" fetch INBOX "$uid" | tr -d '\r' \
			> "$WORK/ours.txt"
		cmp -s "$WORK/dv.txt" "$WORK/ours.txt" || bad=$((bad + 1))
	done < <("$TOOL" -f "$fmt" "$root" dump INBOX |
		 sed -n 's/^\([0-9]*\) guid=\([^ ]*\) .*/\1 \2/p')
	ok $bad "$fmt: doveadm fetch text gives our bodies byte for byte ($bad differ)"
	[[ $(dv "$c" fetch size.virtual mailbox INBOX | sed -n 's/^size.virtual: //p' | sort -n) == \
	   $("$TOOL" -f "$fmt" "$root" dump INBOX | sed -n 's/.* virt=\([0-9]*\) .*/\1/p' | sort -n) ]]
	ok $? "$fmt: Dovecot's virtual sizes equal ours"
	dv "$c" mailbox list -s | grep -qx "Sub/Entwürfe"
	ok $? "$fmt: Dovecot sees our subscription"
}

dovecot_to_ours() {
	local fmt=$1 root=$WORK/dv-$fmt c bad=0 i uid

	mkdir -p "$root"
	chown "$MAIL_UID:$MAIL_UID" "$root"
	c=$(conf "$fmt" "$root")
	for i in {1..10}; do
		dv "$c" save -m INBOX < "$WORK/msgs/$i.eml" || bad=1
	done
	dv "$c" mailbox create "Archiv/Entwürfe" &&
	dv "$c" mailbox subscribe "Archiv/Entwürfe" || bad=1
	for i in {11..14}; do
		dv "$c" save -m "Archiv/Entwürfe" < "$WORK/msgs/$i.eml" || bad=1
	done
	ok $bad "$fmt: Dovecot writes 14 messages into two mailboxes"
	"$TOOL" -f "$fmt" "$root" list > "$WORK/list.txt" 2>>"$WORK/tool.log"
	grep -q "^Archiv/Entwürfe	.*\\\\Subscribed" "$WORK/list.txt"
	ok $? "$fmt: we list Dovecot's mailboxes and subscriptions"
	for box in INBOX "Archiv/Entwürfe"; do
		[[ -n $(dv_guids "$c" "$box") &&
		   $(dv_guids "$c" "$box") == $(our_guids "$fmt" "$root" "$box") ]]
		ok $? "$fmt: we find Dovecot's messages (GUIDs) in $box"
	done
	# Dovecot saves in order: uid i is message i
	bad=0
	for i in {1..10}; do
		uid=$("$TOOL" -f "$fmt" "$root" dump INBOX |
		      awk -v g="$(dv "$c" fetch guid mailbox INBOX uid "$i" |
				  sed -n 's/^guid: //p')" \
		      '$2 == "guid=" g { print $1 }')
		"$TOOL" -f "$fmt" "$root" fetch INBOX "${uid:-0}" > "$WORK/ours.txt" 2>/dev/null
		cmp -s "$WORK/msgs/$i.eml" "$WORK/ours.txt" || bad=$((bad + 1))
	done
	ok $bad "$fmt: Dovecot's messages read back as the originals ($bad differ)"
	chown -R "$MAIL_UID:$MAIL_UID" "$root"
	[[ $(dv "$c" fetch guid mailbox INBOX | grep -c '^guid:') == 10 ]]
	ok $? "$fmt: Dovecot still reads its store after we used it"
}

for fmt in sdbox mdbox; do
	ours_to_dovecot "$fmt"
	dovecot_to_ours "$fmt"
done
echo "1..$n"
