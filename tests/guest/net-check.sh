#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside a guest booted with GUEST_NET: check eth0 is configured, then
# serve $GUEST_RESULTS/net/token over HTTP on PORT until the host, which
# fetches it through QEMU's hostfwd, leaves $GUEST_RESULTS/net/fetched
# (at most 90 s).
#
# usage: net-check.sh PORT
set -euo pipefail

port=${1:?usage: $0 PORT}
dir=${GUEST_RESULTS:?not running under scripts/guest-run.sh}/net

ip -4 -o addr show dev eth0 | grep -q ' 10\.0\.2\.15/24 ' || {
	echo "net-check: eth0 has no 10.0.2.15/24" >&2
	ip addr >&2
	exit 1
}
[[ -s $dir/token ]] || { echo "net-check: no $dir/token" >&2; exit 1; }

# Serve a copy: the 9p share of the results is slow to list for httpd.
mkdir -p /tmp/www
cp "$dir/token" /tmp/www/token
busybox httpd -f -p "$port" -h /tmp/www &
httpd=$!
echo "net-check: serving on port $port" >&2
for ((i = 0; i < 900; i++)); do
	if [[ -e $dir/fetched ]]; then
		kill "$httpd"
		echo "net-check: the host fetched the token" >&2
		exit 0
	fi
	sleep 0.1
done
kill "$httpd"
echo "net-check: the host did not fetch the token within 90 s" >&2
exit 1
