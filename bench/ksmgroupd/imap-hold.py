#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Open N IMAP connections to 127.0.0.1:143 (user uI / password pI), log in,
# SELECT INBOX and hold them idle for SECONDS; print one line when all are up.
import imaplib, sys, time
n, hold = int(sys.argv[1]), float(sys.argv[2])
conns = []
t0 = time.time()
for i in range(1, n + 1):
    c = imaplib.IMAP4("127.0.0.1", 143)
    c.login("u%d" % i, "p%d" % i)
    c.select("INBOX")
    conns.append(c)
print("connected %d in %.1f s" % (n, time.time() - t0), flush=True)
time.sleep(hold)
for c in conns:
    try:
        c.logout()
    except Exception:
        pass
