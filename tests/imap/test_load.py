# SPDX-License-Identifier: GPL-2.0-or-later
"""dboxd under the project's own load generator (bench/imap/loadgen, a C
client that checks every response): LOGOUT must end the connection at once,
a reply must not wait for the client's delayed ACK, and a mixed load of
every op at several connections per user runs without one error.

Two bugs found by the benchmark are pinned here: a connection closed right
after an event arrived stayed open in the worker's io_uring until the worker
exited (no FIN after LOGOUT), and replies written in pieces without
TCP_NODELAY waited 40 ms for the client's delayed ACK."""

import os
import subprocess

from dboxd_test import TOP, Server, check

LOADGEN = os.path.join(TOP, "build/bench/imap/bin/loadgen")
MKMAIL = os.path.join(TOP, "build/bench/imap/bin/mkmail")
USERS = 4
MESSAGES = 60


def setup():
    check(os.access(LOADGEN, os.X_OK) and os.access(MKMAIL, os.X_OK),
          "%s and mkmail not built (make -C bench/imap)" % LOADGEN)
    # A worker that lingers longer than any test: a connection that is
    # not closed would stay open, not be rescued by the worker's exit.
    s = Server("load", worker_linger="120s", max_user_connections="20")
    for i in range(USERS):
        s.add_user("user%04d" % i, "pass")
    s.start()
    r = subprocess.run([MKMAIL, "-n", str(MESSAGES), "--imap",
                        "127.0.0.1:%d" % s.port, "--password", "pass",
                        "--user-fmt", "user%04u", "--users",
                        "0-%d" % (USERS - 1)],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "mkmail: %s" % r.stderr[-500:])
    return s


def teardown(s):
    s.cleanup()


def loadgen(s, *args):
    """Run loadgen; return the summary's key=value pairs and the per-command
    lines (name -> dict)."""
    r = subprocess.run([LOADGEN, "-T", "5", "--min-messages", "20"] +
                       list(args) + ["127.0.0.1:%d" % s.port],
                       capture_output=True, text=True, timeout=120)
    summary, cmds = {}, {}
    for line in r.stdout.splitlines():
        fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
        if line.startswith("summary "):
            summary = fields
        elif line.startswith("cmd "):
            cmds[fields["name"]] = fields
    check(summary, "loadgen printed no summary (exit %d): %s" %
          (r.returncode, r.stderr[-800:]))
    errors = int(summary["errors"])
    check(r.returncode == 0 and errors == 0,
          "loadgen: exit %d, %d errors: %s" % (r.returncode, errors,
                                              r.stderr[-800:]))
    return summary, cmds


def test_logout_closes_the_connection_at_once(s):
    """LOGIN, SELECT, LOGOUT, and wait for the server's FIN, over and over
    with one connection; a FIN that does not come is a timeout (-T 5)."""
    summary, cmds = loadgen(s, "-c", "1", "-d", "2", "-W", "0",
                            "-m", "logout=1")
    n = int(cmds.get("logout", {}).get("n", 0))
    check(n >= 20, "only %d LOGOUT cycles in 2 s" % n)


def test_logout_with_other_connections_of_the_user_open(s):
    """The same, five connections of one user at once: the worker never
    exits, so nothing but a real close ends a connection."""
    loadgen(s, "-c", "5", "--per-user", "5", "-d", "2", "-W", "0",
            "-m", "logout=1,noop=1")


def test_fetch_reply_does_not_wait_for_delayed_ack(s):
    """A FETCH reply is written in pieces; with Nagle its tail waits for
    the client's delayed ACK, 40 ms on Linux, on every FETCH."""
    summary, cmds = loadgen(s, "-c", "1", "-d", "2", "-m", "fetch=1")
    p50 = float(cmds["fetch"]["p50_ms"])
    check(p50 < 30, "FETCH p50 %.1f ms: delayed ACK (Nagle)?" % p50)


def test_store_replies_are_exact_with_one_connection_per_user(s):
    """Alone in its mailbox, a connection's STORE must come back with the
    FLAGS it asked for, every time: no race can excuse a mismatch."""
    summary, cmds = loadgen(s, "-c", "4", "--per-user", "1", "-d", "2",
                            "-m", "store=3,fetch=1")
    check(int(cmds.get("store", {}).get("n", 0)) > 100,
          "too few STOREs: %s" % cmds.get("store"))
    check(summary["races"] == "0", "races with one connection per user: %s"
          % summary)


def test_mixed_load_without_errors(s):
    """Every op of the benchmark's default mix, 8 clients, four per user,
    every response checked. What another connection of the user may have
    caused (a STORE reported with its flags, a message expunged meanwhile)
    counts as a race, not an error."""
    summary, cmds = loadgen(s, "-c", "8", "--per-user", "4", "-d", "3")
    for op in ("fetch", "store", "search", "noop"):
        check(int(cmds.get(op, {}).get("n", 0)) > 0, "no %s completed" % op)
    check(int(summary["tags_sent"]) == int(summary["tags_checked"]),
          "responses missing: %s" % summary)
