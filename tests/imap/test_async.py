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


READ_DELAY_MS = 700
SEARCH_MSGS = 24


def _search_server():
    """A dboxd of its own whose every io_uring read completes
    READ_DELAY_MS late (DBOX_TEST_READ_DELAY_MS, docs/dbox.md), with
    SEARCH_MSGS messages in INBOX; every third has "needle" in its body."""
    s = Server("async-search", storage_io="uring")
    os.environ["DBOX_TEST_READ_DELAY_MS"] = str(READ_DELAY_MS)
    try:
        s.add_user("bob")
        s.start()
        m = s.login("bob")
        for i in range(SEARCH_MSGS):
            word = "needle" if i % 3 == 0 else "hay"
            # subjects sort in the reverse of arrival order
            m.append("INBOX", None, None,
                     message("s%02d" % (SEARCH_MSGS - i),
                             _text(3000) + "a %s here\r\n" % word))
        m.logout()
    except Exception:
        s.cleanup()
        raise
    finally:
        del os.environ["DBOX_TEST_READ_DELAY_MS"]
    return s


def _numbers(lines, prefix):
    for line in lines:
        if line.startswith(prefix):
            return [int(x) for x in line[len(prefix):].split()]
    raise AssertionError("no %r in %r" % (prefix, lines))


def test_worker_serves_others_while_body_search_reads(s):
    if not _has_uring_log(s):
        return "SKIP io_uring unavailable for the storage"
    t = _search_server()
    try:
        a = t.raw()
        a.login("bob")
        a.cmd("S", "SELECT INBOX")
        b = t.raw()
        b.login("bob")
        b.cmd("S", "SELECT INBOX")
        start = time.monotonic()
        a.send("A1 UID SEARCH BODY needle\r\n")
        time.sleep(0.3)     # the worker is waiting for the first reads
        t0 = time.monotonic()
        _, res = b.cmd("B1", "NOOP")
        noop = time.monotonic() - t0
        check(b" OK " in res, "NOOP: %r" % res)
        t0 = time.monotonic()
        lines, res = b.cmd("B2", "SEARCH ALL")    # index only: no reads
        index_search = time.monotonic() - t0
        check(_numbers(lines, b"* SEARCH") ==
              list(range(1, SEARCH_MSGS + 1)), "SEARCH ALL: %r" % lines)
        answered = time.monotonic() - start
        lines, res = a.until("A1")
        search = time.monotonic() - start
        check(b" OK " in res, "SEARCH: %r" % res)
        want = [i + 1 for i in range(SEARCH_MSGS) if i % 3 == 0]
        check(_numbers(lines, b"* SEARCH") == want,
              "UID SEARCH BODY needle: %r, want %r" % (lines, want))
        check(noop < 0.5 and index_search < 0.5,
              "other connection waited: NOOP %.2fs, SEARCH ALL %.2fs" %
              (noop, index_search))
        check(search >= READ_DELAY_MS / 1000.0 - 0.05,
              "SEARCH took %.2fs: the read delay knob did not act" % search)
        check(answered < search,
              "the other connection was answered only after the SEARCH")
        # the same answers through ESEARCH, SORT (headers) and a header
        # search, all read asynchronously
        lines, res = b.cmd("B3", "SEARCH RETURN (COUNT MIN MAX) TEXT needle")
        check(b"MIN 1 MAX %d COUNT %d" % (want[-1], len(want)) in lines[0],
              "ESEARCH: %r" % lines)
        lines, res = b.cmd("B4", "SORT (SUBJECT) UTF-8 BODY needle")
        check(_numbers(lines, b"* SORT") == sorted(want, reverse=True),
              "SORT (SUBJECT) BODY needle: %r" % lines)
        lines, res = b.cmd("B5", "SEARCH HEADER Subject s0 NOT BODY hay")
        want_hdr = [i + 1 for i in range(SEARCH_MSGS)
                    if SEARCH_MSGS - i < 10 and i % 3 == 0]
        check(_numbers(lines, b"* SEARCH") == want_hdr,
              "SEARCH HEADER Subject s0 NOT BODY hay: %r, want %r" %
              (lines, want_hdr))
        a.close()
        b.close()
    finally:
        t.cleanup()
