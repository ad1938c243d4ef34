#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A broken IMAP server, for loadgen's negative tests only
(tests/suites/loadgen.sh): loadgen must count an error and exit non-zero.

    fake-server.py MODE PORTFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE) and serves each
connection in a thread: it greets, accepts LOGIN and SELECT (one message),
then misbehaves on the first command after SELECT:

    garbage   answers a line that is no IMAP response
    close     closes the connection without answering
    wrongtag  answers OK with a tag that was never sent
    flags     answers each STORE with FLAGS that lack the flag it added
              (or keep the one it removed); run loadgen with -m store=1.
              With one connection per user that is an error; with more
              it is what another connection's STORE could have caused,
              a race
"""
import os
import socket
import sys
import threading


def serve(conn, mode):
    f = conn.makefile("rb")
    conn.sendall(b"* OK fake ready\r\n")
    selected = False
    for line in f:
        parts = line.split(b" ", 2)
        tag = parts[0]
        cmd = parts[1].strip().upper() if len(parts) > 1 else b""
        if cmd == b"LOGIN":
            conn.sendall(tag + b" OK [CAPABILITY IMAP4rev1] logged in\r\n")
        elif cmd == b"SELECT" and not selected:
            selected = True
            conn.sendall(b"* 1 EXISTS\r\n* 0 RECENT\r\n"
                         b"* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 2] x\r\n"
                         + tag + b" OK [READ-WRITE] selected\r\n")
        elif mode == "garbage":
            conn.sendall(b"\x00\x01 this is not IMAP }{\r\n")
        elif mode == "wrongtag":
            conn.sendall(b"Z999 OK done\r\n")
        elif mode == "flags" and cmd == b"STORE":
            # "STORE 1 +FLAGS (\\Seen)": report the opposite
            seq, item, flag = parts[2].split(b" ", 2)
            flags = b"" if item.startswith(b"+") else flag.strip(b"()\r\n")
            conn.sendall(b"* " + seq + b" FETCH (FLAGS (" + flags +
                         b"))\r\n" + tag + b" OK stored\r\n")
        else:
            break
    conn.close()


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(portfile + ".tmp", "w") as p:
        p.write("%d\n" % srv.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
