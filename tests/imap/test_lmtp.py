# SPDX-License-Identifier: GPL-2.0-or-later
"""LMTP delivery (RFC 2033): Python's smtplib.LMTP and swaks against
dboxd's lmtp process, over TCP and a Unix socket; mail lands in INBOX and
a client in IDLE sees it arrive."""

import os
import re
import shutil
import smtplib
import subprocess

from dboxd_test import Server, check, free_port, inbox, message


def setup():
    s = Server("lmtp", imap_max_literal_size="64k")
    s.lmtp_port = free_port()
    s.lmtp_sock = os.path.join(s.tmp, "lmtp.sock")
    s.settings["lmtp_listen"] = "127.0.0.1:%d, %s" % (s.lmtp_port,
                                                      s.lmtp_sock)
    s.settings["lmtp_hostname"] = "mx.test"
    s.write_config()
    s.add_user("alice")
    s.add_user("bob")
    return s.start()


def teardown(s):
    s.cleanup()


def lmtp(s):
    return smtplib.LMTP("127.0.0.1", s.lmtp_port, timeout=20)


def test_lhlo_capabilities(s):
    c = lmtp(s)
    code, text = c.ehlo("client.test")
    check(code == 250 and b"mx.test" in text, text)
    for cap in (b"PIPELINING", b"ENHANCEDSTATUSCODES", b"8BITMIME",
                b"SIZE 65536"):
        check(cap in text, "%r missing" % cap)
    c.quit()


def test_deliver_to_two_users(s):
    c = lmtp(s)
    refused = c.sendmail("sender@example.org",
                         ["alice@example.com", "bob"],
                         message(subject="lmtp one", body="delivered"))
    check(refused == {}, refused)
    c.quit()
    for user, rcpt in (("alice", b"alice@example.com"), ("bob", b"bob")):
        msgs = inbox(s, user)
        check(len(msgs) == 1, "%s has %d" % (user, len(msgs)))
        check(msgs[0].startswith(b"Return-Path: <sender@example.org>\r\n"
                                 b"Delivered-To: " + rcpt + b"\r\n"),
              msgs[0][:120])
        check(b"Subject: lmtp one" in msgs[0])


def test_unknown_recipient_refused(s):
    c = lmtp(s)
    c.ehlo("x")
    c.mail("a@b")
    code, text = c.rcpt("nobody@example.com")
    check(code == 550 and b"5.1.1" in text, (code, text))
    code, text = c.rcpt("alice+news@example.com")
    check(code == 250, "detail address refused: %r" % text)
    c.quit()


def test_replies_per_recipient_after_data(s):
    c = lmtp(s)
    c.ehlo("x")
    c.mail("a@b")
    c.rcpt("alice")
    c.rcpt("nobody")
    c.rcpt("bob")
    c.putcmd("data")
    code, _ = c.getreply()
    check(code == 354)
    c.send(b"Subject: two\r\n\r\n..dotted\r\n.\r\n")
    replies = [c.getreply() for _ in range(2)]
    check([r[0] for r in replies] == [250, 250], replies)
    check(b"<alice>" in replies[0][1] and b"<bob>" in replies[1][1],
          "replies out of recipient order: %r" % replies)
    c.quit()
    check(any(b"\r\n.dotted\r\n" in m for m in inbox(s, "bob")),
          "dot-stuffing not undone")


def test_message_too_big(s):
    c = lmtp(s)
    c.ehlo("x")
    code, text = c.mail("a@b", ["SIZE=999999"])
    check(code == 552, (code, text))
    c.rset()
    c.mail("a@b")
    c.rcpt("alice")
    code, text = c.data(b"Subject: big\r\n\r\n" + b"y" * 70000)
    check(code == 552, (code, text))
    c.quit()


def test_sequence_errors(s):
    c = lmtp(s)
    code, _ = c.docmd("MAIL FROM:<a@b>")
    check(code == 503, "MAIL before LHLO accepted")
    c.ehlo("x")
    code, _ = c.docmd("RCPT TO:<alice>")
    check(code == 503)
    code, _ = c.docmd("BOGUS")
    check(code == 500)
    code, _ = c.docmd("DATA")
    check(code == 503)
    c.quit()


def test_idle_client_sees_delivery(s):
    r = s.raw()
    r.login("alice")
    r.cmd("s", "SELECT INBOX")
    r.send("i IDLE\r\n")
    r.line()
    c = lmtp(s)
    c.sendmail("a@b", ["alice"], message(subject="while idling"))
    c.quit()
    line = r.line(timeout=5)
    check(re.match(rb"\* \d+ EXISTS", line), line)
    r.send("DONE\r\n")
    r.until("i")
    r.close()


def test_unix_socket_and_swaks(s):
    if shutil.which("swaks") is None:
        return "SKIP swaks not installed"
    out = subprocess.run(["swaks", "--protocol", "LMTP", "--socket",
                          s.lmtp_sock, "--to", "bob@example.com", "--from",
                          "swaks@example.org", "--header",
                          "Subject: via swaks", "--body", "swaks body"],
                         capture_output=True, timeout=30)
    check(out.returncode == 0, out.stdout[-500:])
    check(any(b"Subject: via swaks" in m for m in inbox(s, "bob")))


def deliver(s, *args, data=b"", uid=None):
    from dboxd_test import DBOXD

    def become():
        os.setgid(uid)
        os.setuid(uid)
    return subprocess.run([DBOXD, "-c", s.conf] + list(args), input=data,
                          capture_output=True, timeout=30,
                          preexec_fn=become if uid is not None else None)


def test_deliver_tool(s):
    r = deliver(s, "-d", "alice@example.com", "-f", "cli@example.org",
                data=message(subject="from the cli").replace(b"\r\n",
                                                              b"\n"))
    check(r.returncode == 0, r.stderr)
    msgs = inbox(s, "alice")
    mine = [m for m in msgs if b"from the cli" in m]
    check(len(mine) == 1 and mine[0].startswith(
        b"Return-Path: <cli@example.org>\r\nDelivered-To: alice@example.com"
        b"\r\n"), mine)
    check(b"\n" not in mine[0].replace(b"\r\n", b""), "LF not made CRLF")


def test_deliver_tool_mailbox_and_fallback(s):
    m = s.login("alice")
    m.create("Lists")
    m.logout()
    r = deliver(s, "-d", "alice", "-m", "Lists", data=message(subject="l1"))
    check(r.returncode == 0, r.stderr)
    r = deliver(s, "-d", "alice", "-m", "NoSuch", data=message(subject="l2"))
    check(r.returncode == 0, r.stderr)
    m = s.login("alice")
    check(m.select("Lists")[1] == [b"1"])
    m.select("INBOX")
    check(m.search(None, "SUBJECT", "l2")[1][0] != b"",
          "unknown mailbox did not fall back to INBOX")
    m.logout()


def test_deliver_tool_exit_codes(s):
    r = deliver(s, "-d", "nobody", data=message())
    check(r.returncode == 67, (r.returncode, r.stderr))
    r = deliver(s, "-d", "alice", data=b"x" * 70000)
    check(r.returncode == 65, (r.returncode, r.stderr))
    r = deliver(s, "-d", "alice", data=message(), uid=s.users["bob"][0])
    check(r.returncode == 77, (r.returncode, r.stderr))
    r = deliver(s, "-d", "bob", data=message(subject="self"),
                uid=s.users["bob"][0])
    check(r.returncode == 0, (r.returncode, r.stderr))
    bad = os.path.join(s.tmp, "broken.conf")
    with open(bad, "w") as f:
        f.write("bogus\n")
    from dboxd_test import DBOXD
    r = subprocess.run([DBOXD, "-c", bad, "-d", "alice"], input=b"",
                       capture_output=True, timeout=10)
    check(r.returncode == 78 and b"broken.conf:1:" in r.stderr,
          (r.returncode, r.stderr))


FSYNC_DELAY_MS = 1000


def test_delivery_into_running_worker_does_not_block_it(s):
    """LMTP into a user who is logged in: the worker appends on its loop
    (DBOX_TEST_FSYNC_DELAY_MS makes the append's two fsyncs take 2 s), and
    the user's other connection gets its NOOPs answered meanwhile; the
    reply to the LMTP client comes from the append's completion, and an
    IDLE connection sees the message after it."""
    import threading
    import time
    t = Server("lmtp-async", storage_io="uring")
    t.lmtp_port = free_port()
    t.settings["lmtp_listen"] = "127.0.0.1:%d" % t.lmtp_port
    t.write_config()
    t.add_user("carol")
    os.environ["DBOX_TEST_FSYNC_DELAY_MS"] = str(FSYNC_DELAY_MS)
    try:
        t.start()
    finally:
        del os.environ["DBOX_TEST_FSYNC_DELAY_MS"]
    try:
        idle = t.raw()
        idle.login("carol")
        idle.cmd("s", "SELECT INBOX")
        if "storage I/O io_uring" not in t.log_text():
            return "SKIP io_uring unavailable for the storage"
        idle.send("i IDLE\r\n")
        idle.line()
        b = t.raw()
        b.login("carol")
        b.cmd("s", "SELECT INBOX")
        done = {}

        def send():
            c = lmtp(t)
            start = time.monotonic()
            done["refused"] = c.sendmail("a@b", ["carol"],
                                         message(subject="async lmtp"))
            done["took"] = time.monotonic() - start
            c.quit()
        th = threading.Thread(target=send)
        th.start()
        time.sleep(0.2)
        noops = []
        while th.is_alive() and len(noops) < 200:
            t0 = time.monotonic()
            _, res = b.cmd("n%d" % len(noops), "NOOP")
            noops.append(time.monotonic() - t0)
            check(b" OK " in res, "NOOP: %r" % res)
            time.sleep(0.05)
        th.join(30)
        check(done.get("refused") == {}, "delivery: %r" % done)
        check(done["took"] >= 2 * FSYNC_DELAY_MS / 1000.0 - 0.1,
              "delivery took %.2fs: the fsync delay knob did not act" %
              done["took"])
        check(len(noops) >= 5 and max(noops) < 0.5,
              "NOOPs during the delivery: %d, slowest %.2fs" %
              (len(noops), max(noops) if noops else -1))
        line = idle.line(timeout=5)
        check(re.match(rb"\* \d+ EXISTS", line), line)
        idle.send("DONE\r\n")
        idle.until("i")
        msgs = inbox(t, "carol")
        check(len(msgs) == 1 and b"Subject: async lmtp" in msgs[0],
              "INBOX: %r" % [m[:80] for m in msgs])
        idle.close()
        b.close()
    finally:
        t.cleanup()
