# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad input and limits: malformed commands get BAD with a reason, nothing
crashes, oversized literals and lines, hostile mailbox names, symlinks in
the mail root, connection limits, timeouts."""

import os
import random
import socket
import time

from dboxd_test import Server, check, message, procs, wait_for


def setup():
    s = Server("bad", imap_max_literal_size="1M",
               imap_max_line_length="4k", max_address_connections="12",
               max_user_connections="4", login_timeout="1500ms",
               imap_idle_timeout="2s")
    s.add_user("alice")
    s.add_user("bob")
    return s.start()


def teardown(s):
    s.cleanup()


def alive(s):
    m = s.login("bob")
    m.logout()
    return True


def logged_in(s, user="alice"):
    r = s.raw()
    r.login(user)
    return r


MALFORMED = [
    ("SELECT", b"BAD"),
    ('SELECT "INBOX', b"BAD"),
    ("FETCH 1 (BODY[", b"BAD"),
    ("FETCH x FLAGS", b"BAD"),
    ("FETCH 1 (FLAGS", b"BAD"),
    ("FETCH 1 FLAGS)", b"BAD"),
    ("FETCH 1 (NOSUCHITEM)", b"BAD"),
    ("STORE 1 FLAGS", b"BAD"),
    ("STORE 1 XFLAGS (\\Seen)", b"BAD"),
    ("SEARCH FROM", b"BAD"),
    ("SEARCH (((((", b"BAD"),
    ("LIST", b"BAD"),
    ("UID", b"BAD"),
    ("UID NOOP", b"BAD"),
    ("NOSUCHCOMMAND", b"BAD"),
    ('STATUS INBOX "MESSAGES"', b"BAD"),
    ("APPEND INBOX", b"BAD"),
    ('CREATE "a\\"b', b"BAD"),
    ("SEARCH BEFORE 32-Jan-2020", b"BAD"),
    ("COPY 1:x INBOX", b"BAD"),
]


def test_malformed_commands_get_bad_with_reason(s):
    r = logged_in(s)
    r.cmd("s", "SELECT INBOX")
    for i, (text, want) in enumerate(MALFORMED):
        tag = "m%d" % i
        _, res = r.cmd(tag, text)
        check(res.startswith(tag.encode() + b" " + want + b" "),
              "%r -> %r" % (text, res))
        check(len(res) > len(tag) + 5, "no reason given for %r" % text)
    r.close()
    check(alive(s))


def test_tag_errors(s):
    r = logged_in(s)
    r.send("*bad NOOP\r\n")
    check(r.line().startswith(b"* BAD"), "invalid tag accepted")
    r.send("lonely\r\n")
    check(r.line().startswith(b"lonely BAD"), "missing command accepted")
    r.send("a+b NOOP\r\n")
    check(b"BAD" in r.line(), "tag with + accepted")
    r.close()


def test_nul_byte_in_command(s):
    r = logged_in(s)
    r.send(b"n1 NOOP\x00 x\r\n")
    check(r.line().startswith(b"n1 BAD"), "NUL accepted")
    _, res = r.cmd("n2", "NOOP")
    check(res.startswith(b"n2 OK"))
    r.close()


def test_oversized_synchronizing_literal(s):
    r = logged_in(s)
    r.send("a APPEND INBOX {2000000}\r\n")
    line = r.line()
    check(line.startswith(b"a NO [TOOBIG]"), line)
    _, res = r.cmd("b", "NOOP")
    check(res.startswith(b"b OK"), "connection not usable after TOOBIG")
    r.close()


def test_oversized_nonsync_literal_disconnects(s):
    r = logged_in(s)
    r.send("a APPEND INBOX {2000000+}\r\n")
    line = r.line()
    check(line.startswith(b"* BYE"), line)
    check(r.closed(), "not closed")
    check(alive(s))


def test_literal_at_limit_is_accepted(s):
    m = s.login("alice")
    body = message(body="z" * (1024 * 1024 - 200))
    check(len(body) <= 1024 * 1024)
    typ, data = m.append("INBOX", None, None, body)
    check(typ == "OK", data)
    m.logout()


def test_overlong_line(s):
    r = logged_in(s)
    r.send("a NOOP " + "x" * 10000 + "\r\n")
    line = r.line()
    check(line.startswith(b"a BAD"), line)
    _, res = r.cmd("b", "NOOP")
    check(res.startswith(b"b OK"), "connection not usable after long line")
    # the same before login
    p = s.raw()
    p.send("c LOGIN " + "y" * 20000 + "\r\n")
    check(p.line().startswith(b"c BAD"))
    _, res = p.cmd("d", "NOOP")
    check(res.startswith(b"d OK"))
    r.close()
    p.close()


BAD_NAMES = ["../etc", "a/../b", "/etc/passwd", "a//b", "~root", "a/./b",
             "x\x01y", "&Jjo!", "..", "a/", "*", "%"]


def test_hostile_mailbox_names(s):
    m = s.login("alice")
    for name in BAD_NAMES:
        q = '"' + name + '"'
        if name == "a/":
            # CREATE strips one trailing separator (RFC 3501); a/ names a
            continue
        for cmd in ("create", "select", "delete"):
            try:
                typ, data = getattr(m, cmd)(q)
            except m.error:
                typ = "BAD"
            check(typ in ("NO", "BAD"), "%s %r -> %s" % (cmd, name, typ))
        typ, data = m.rename("INBOX", q) if True else (None, None)
        check(typ in ("NO", "BAD"), "rename to %r -> %s" % (name, typ))
    home = s.users["alice"][1]
    for root, dirs, files in os.walk(s.tmp):
        for d in dirs:
            check(d != "etc" or root.startswith(home),
                  "a directory escaped: %s/%s" % (root, d))
    m.logout()


def test_symlink_in_mail_root_not_followed(s):
    b = s.login("bob")
    b.append("INBOX", None, None, message(subject="bob's secret"))
    b.logout()
    a = s.login("alice")
    a.create("Real")
    a.logout()
    alice_home, bob_home = s.users["alice"][1], s.users["bob"][1]
    boxes = os.path.join(alice_home, "dbox", "mailboxes")
    check(os.path.isdir(boxes), "no mailboxes dir at %s" % boxes)
    bob_inbox = os.path.join(bob_home, "dbox", "mailboxes", "INBOX")
    os.symlink(bob_inbox, os.path.join(boxes, "Evil"))
    os.symlink("/etc", os.path.join(boxes, "Etc"))
    a = s.login("alice")
    found = []
    for box in ("Evil", "Etc"):
        try:
            typ, data = a.select(box)
        except a.error:
            typ = "BAD"
        if typ == "OK" and int(data[0]) > 0:
            typ, data = a.fetch("1:*", "(BODY.PEEK[])")
            found.append(data)
    check(not found, "symlinked mailbox readable: %r" % found)
    typ, data = a.search(None, "ALL") if a.state == "SELECTED" else (
        "OK", [b""])
    a.logout()


def test_per_address_connection_limit(s):
    conns = []
    try:
        for _ in range(12):
            conns.append(s.raw())
        extra = socket.create_connection(("127.0.0.1", s.port), 5)
        extra.settimeout(5)
        data = extra.recv(4096)
        check(data.startswith(b"* BYE") and b"LIMIT" in data, data)
        extra.close()
    finally:
        for c in conns:
            c.close()
    check(wait_for(lambda: _can_connect(s), 5), "limit not released")


def _can_connect(s):
    try:
        r = s.raw()
        ok = r.greeting.startswith(b"* OK")
        r.close()
        return ok
    except Exception:
        return False


def test_per_user_connection_limit(s):
    conns = [logged_in(s, "bob") for _ in range(4)]
    r = s.raw()
    _, res = r.cmd("a", "LOGIN bob secret")
    check(res.startswith(b"a NO [LIMIT]"), res)
    for c in conns:
        c.close()
    time.sleep(0.3)
    _, res = r.cmd("b", "LOGIN bob secret")
    check(res.startswith(b"b OK"), res)
    r.close()


def test_prelogin_idle_timeout(s):
    r = s.raw()
    start = time.time()
    line = r.line(timeout=10)
    check(line.startswith(b"* BYE"), line)
    check(time.time() - start < 5, "timeout too late")
    check(r.closed())


def test_idle_timeout(s):
    r = logged_in(s)
    r.cmd("s", "SELECT INBOX")
    r.send("i IDLE\r\n")
    r.line()
    start = time.time()
    line = r.line(timeout=10)
    while not line.startswith(b"* BYE"):
        line = r.line(timeout=10)
    check(1.5 < time.time() - start < 6, "IDLE timeout after %.1f s" %
          (time.time() - start))


def test_too_many_bad_commands(s):
    r = logged_in(s)
    for i in range(25):
        try:
            r.send("b%d BOGUS\r\n" % i)
        except OSError:
            break	# closed on us already
    lines = []
    try:
        while True:
            lines.append(r.line(timeout=5))
    except EOFError:
        pass
    check(any(ln.startswith(b"* BYE") for ln in lines), lines[-3:])


def test_random_garbage_crashes_nothing(s):
    rnd = random.Random(1234)
    before = sorted(p for p, u, c, pp in procs() if u == 0)
    for n in range(6):
        r = s.raw() if n % 2 else logged_in(s)
        for _ in range(30):
            line = bytes(rnd.randrange(1, 256) for _ in
                         range(rnd.randrange(0, 200)))
            line = line.replace(b"\r", b"").replace(b"\n", b"")
            try:
                r.send(line + b"\r\n")
            except OSError:
                break
        r.close()
    check(alive(s), "server does not answer after garbage")
    after = sorted(p for p, u, c, pp in procs() if u == 0)
    check(before == after, "root processes changed: %r -> %r" % (before,
                                                                  after))
    log = s.log_text()
    check("killed by signal" not in log, "a process crashed: %s" %
          [ln for ln in log.splitlines() if "killed by signal" in ln])
