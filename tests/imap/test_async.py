# SPDX-License-Identifier: GPL-2.0-or-later
"""The worker's event loop never waits for the storage: a command waiting
for an fsync is suspended and the user's other connections (same worker
process) are answered meanwhile.

dboxd runs with storage_io = uring and DBOX_TEST_FSYNC_DELAY_MS=1500 (a test
knob of libdbox, docs/dbox.md: every io_uring fsync completes 1.5 s late,
via a timeout request on the ring). An sdbox APPEND needs two fsyncs (the
message file, then the directory with the index transaction open), so it
takes at least 3 s. If the worker blocked on an fsync, the other
connection's NOOP and FETCH would take at least as long; they must come back
in well under a second, while the APPEND is still in flight."""

import os
import time

from dboxd_test import Server, check, message

DELAY_MS = 1500


def setup():
    s = Server("async", storage_io="uring")
    os.environ["DBOX_TEST_FSYNC_DELAY_MS"] = str(DELAY_MS)
    try:
        s.add_user("alice")
        s.start()
        m = s.login("alice")
        m.append("INBOX", None, None, message("first", _text(2000)))
        m.logout()
    except Exception:
        s.cleanup()     # run.py calls no teardown after a failed setup
        raise
    finally:
        del os.environ["DBOX_TEST_FSYNC_DELAY_MS"]
    return s


def _text(size):
    line = "All work and no play makes Jack a dull boy, 0123456789.\r\n"
    return line * (size // len(line) + 1)


def _has_uring_log(s):
    return "storage I/O io_uring" in s.log_text()


def teardown(s):
    s.cleanup()


def _selected(s):
    c = s.raw()
    c.login("alice")
    _, res = c.cmd("S", "SELECT INBOX")
    check(b" OK " in res, "select: %r" % res)
    return c


def test_worker_serves_others_while_append_waits_for_fsync(s):
    if not _has_uring_log(s):
        return "SKIP io_uring unavailable for the storage"
    a = _selected(s)
    b = _selected(s)
    body = message("big", _text(2 * 1024 * 1024))
    start = time.monotonic()
    # LITERAL+: the whole APPEND goes out at once, nothing to wait for
    a.send(b"A1 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
    time.sleep(0.3)        # the worker has it and is in its first fsync
    t0 = time.monotonic()
    _, res = b.cmd("B1", "NOOP")
    noop = time.monotonic() - t0
    check(b" OK " in res, "NOOP: %r" % res)
    t0 = time.monotonic()
    lines, res = b.cmd("B2", "FETCH 1 (BODY.PEEK[] FLAGS)")
    fetch = time.monotonic() - t0
    check(b" OK " in res, "FETCH: %r" % res)
    answered = time.monotonic() - start
    _, res = a.until("A1")
    append = time.monotonic() - start
    check(b" OK " in res and b"APPENDUID" in res, "APPEND: %r" % res)
    check(noop < 0.8 and fetch < 0.8,
          "other connection waited: NOOP %.2fs, FETCH %.2fs" % (noop, fetch))
    check(append >= 2 * DELAY_MS / 1000.0 - 0.1,
          "APPEND took %.2fs: the fsync delay knob did not act" % append)
    check(answered < append,
          "the other connection was answered only after the APPEND")
    a.close()
    b.close()


def test_pipelined_commands_wait_for_the_suspended_one(s):
    if not _has_uring_log(s):
        return "SKIP io_uring unavailable for the storage"
    a = _selected(s)
    body = message("pipelined", _text(5000))
    # APPEND then NOOP in one write: the NOOP must be answered after the
    # APPEND's tagged OK (commands of one connection keep their order)
    a.send(b"P1 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n"
           b"P2 NOOP\r\n")
    order = []
    while len(order) < 2:
        line = a.line(timeout=30)
        if line.startswith(b"P1 ") or line.startswith(b"P2 "):
            order.append(line[:2])
            check(b" OK " in line, "reply: %r" % line)
    check(order == [b"P1", b"P2"], "replies out of order: %r" % order)
    a.close()


def test_store_copy_expunge_fetch_complete_asynchronously(s):
    a = _selected(s)
    _, res = a.cmd("C0", "CREATE Async")
    _, res = a.cmd("C1", "UID COPY 1:* Async")
    check(b"COPYUID" in res, "COPY: %r" % res)
    _, res = a.cmd("C2", "STORE 1 +FLAGS (\\Deleted)")
    check(b" OK " in res, "STORE: %r" % res)
    lines, res = a.cmd("C3", "EXPUNGE")
    check(b" OK " in res and any(b"EXPUNGE" in x for x in lines),
          "EXPUNGE: %r %r" % (lines, res))
    _, res = a.cmd("C4", "SELECT Async")
    lines, res = a.cmd("C5", "FETCH 1 BODY[]")
    check(b" OK " in res and any(b"\\Seen" in x for x in lines),
          "FETCH BODY[] of the copy sets \\Seen: %r" % lines[:1])
    _, res = a.cmd("C6", "MOVE 1 INBOX")
    check(b" OK " in res, "MOVE: %r" % res)
    a.close()
