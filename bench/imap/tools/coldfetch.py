#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fetch every message of a mailbox once and time it (bench/imap/run.sh,
after the page cache was dropped).

    coldfetch.py HOST:PORT USER PASSWORD [MAILBOX]

LOGIN, SELECT, then one `FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])`; every
literal is read by its announced size and its length checked against
RFC822.SIZE. Prints one line: messages=N bytes=B secs=S mib_s=R (secs from
sending FETCH to its tagged OK). Exit 1 on any error or count mismatch.
"""
import re
import socket
import sys
import time

LIT = re.compile(rb"\{(\d+)\}\r\n$")
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    user, password = sys.argv[2], sys.argv[3]
    box = sys.argv[4] if len(sys.argv) > 4 else "INBOX"
    s = socket.create_connection((host, int(port)), 30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb", buffering=1 << 20)

    def cmd(tag, text):
        s.sendall(b"%s %s\r\n" % (tag, text))
        lines = []
        while True:
            line = f.readline()
            if not line:
                sys.exit("coldfetch: connection closed")
            lines.append(line)
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    sys.exit("coldfetch: %r" % line)
                return lines

    f.readline()
    cmd(b"a", b'LOGIN "%s" "%s"' % (user.encode(), password.encode()))
    exists = 0
    for line in cmd(b"b", b'SELECT "%s"' % box.encode()):
        m = re.match(rb"\* (\d+) EXISTS", line)
        if m:
            exists = int(m.group(1))
    t0 = time.monotonic()
    s.sendall(b"c FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])\r\n")
    n = total = 0
    while True:
        line = f.readline()
        if not line:
            sys.exit("coldfetch: connection closed during FETCH")
        if line.startswith(b"c "):
            if not line.startswith(b"c OK"):
                sys.exit("coldfetch: %r" % line)
            break
        lit = LIT.search(line)
        if lit:
            want = int(lit.group(1))
            size = SIZE.search(line)
            body = f.read(want)
            if len(body) != want or (size and int(size.group(1)) != want):
                sys.exit("coldfetch: message %d: %d bytes, RFC822.SIZE %s"
                         % (n + 1, len(body), size and size.group(1)))
            f.readline()        # the rest of the FETCH response: ")"
            n += 1
            total += want
    secs = time.monotonic() - t0
    cmd(b"d", b"LOGOUT")
    if n != exists:
        sys.exit("coldfetch: %d messages fetched of %d" % (n, exists))
    print("messages=%d bytes=%d secs=%.3f mib_s=%.1f"
          % (n, total, secs, total / secs / 1048576))


if __name__ == "__main__":
    main()
