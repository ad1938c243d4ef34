#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check a running `make run` demo from the host, as its banner tells a user
to: IMAP with STARTTLS on one forwarded port, implicit TLS on the other,
every demo user's INBOX holding the generated messages, a wrong password
refused, and curl reading a message. Prints TAP lines "ok - ..." (numbered
later by scripts/tap-number.sh).

usage: check_demo.py HOST IMAP_PORT IMAPS_PORT MESSAGES"""

import imaplib
import ssl
import subprocess
import sys

USERS = ["alice", "bob", "carol", "dave"]
PASSWORD = "demo"


def tls_context():
    # The demo's certificate is self-signed, made at guest boot.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def report(ok, name, why=""):
    print("%s - %s%s" % ("ok" if ok else "not ok", name,
                         "" if ok else "  # " + why))


def expected_messages(total, user):
    # demo-mail.py delivers message i to USERS[i % len(USERS)].
    idx = USERS.index(user)
    return len(range(idx, total, len(USERS)))


def check_inbox(imap, user, total):
    typ, data = imap.select("INBOX", readonly=True)
    want = expected_messages(total, user)
    have = int(data[0]) if typ == "OK" else -1
    report(have == want, "%s: INBOX holds %d messages" % (user, want),
           "SELECT said %s %r" % (typ, data))
    if want == 0:
        return
    typ, data = imap.fetch(str(want), "(BODY.PEEK[HEADER.FIELDS (FROM)])")
    body = data[0][1] if typ == "OK" and data and data[0] else b""
    report(body.lower().startswith(b"from:"),
           "%s: FETCH of the newest message returns its From" % user,
           "FETCH said %s %r" % (typ, data))


def main():
    host, port, sport, total = sys.argv[1], int(sys.argv[2]), \
        int(sys.argv[3]), int(sys.argv[4])
    for user in USERS:
        try:
            imap = imaplib.IMAP4(host, port, timeout=60)
            imap.starttls(ssl_context=tls_context())
            imap.login(user, PASSWORD)
            check_inbox(imap, user, total)
            imap.logout()
            report(True, "%s: STARTTLS on port %d, LOGIN, LOGOUT" %
                   (user, port))
        except (imaplib.IMAP4.error, OSError) as e:
            report(False, "%s: STARTTLS on port %d, LOGIN, LOGOUT" %
                   (user, port), repr(e))

    try:
        imap = imaplib.IMAP4_SSL(host, sport, ssl_context=tls_context(),
                                 timeout=60)
        imap.login("bob", PASSWORD)
        check_inbox(imap, "bob", total)
        imap.logout()
        report(True, "bob: implicit TLS on port %d" % sport)
    except (imaplib.IMAP4.error, OSError) as e:
        report(False, "bob: implicit TLS on port %d" % sport, repr(e))

    try:
        imap = imaplib.IMAP4_SSL(host, sport, ssl_context=tls_context(),
                                 timeout=60)
        imap.login("alice", "not-the-password")
        report(False, "a wrong password is refused", "LOGIN succeeded")
    except imaplib.IMAP4.error:
        report(True, "a wrong password is refused")
    except OSError as e:
        report(False, "a wrong password is refused", repr(e))

    url = "imap://%s:%d/INBOX;UID=1" % (host, port)
    res = subprocess.run(["curl", "-sS", "--max-time", "60", "-u",
                          "carol:" + PASSWORD, url],
                         capture_output=True, timeout=90)
    report(res.returncode == 0 and b"Subject:" in res.stdout,
           "curl fetches carol's first message, as the banner suggests",
           "curl exit %d: %s" % (res.returncode, res.stderr[:200]))


if __name__ == "__main__":
    main()
