# SPDX-License-Identifier: GPL-2.0-or-later
"""IMAP4rev1 (RFC 3501) over the storage: a whole imaplib conversation
(APPEND, FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE), mailbox commands, UID
variants, IDLE by hand, and several connections of one user seeing each
other's changes."""

import re
import time

from dboxd_test import Server, check, expect, message, wait_for


def setup():
    s = Server("protocol")
    s.add_user("alice")
    s.add_user("bob")
    return s.start()


def teardown(s):
    s.cleanup()


def test_capability_after_login(s):
    m = s.login("alice")
    typ, data = m.capability()
    caps = data[0].split()
    for cap in (b"IMAP4rev1", b"LITERAL+", b"IDLE", b"NAMESPACE",
                b"UIDPLUS", b"UNSELECT", b"MOVE", b"ID", b"ENABLE"):
        check(cap in caps, "%r missing from %r" % (cap, caps))
    m.logout()


def test_inbox_exists_and_list(s):
    m = s.login("alice")
    typ, data = m.list()
    check(typ == "OK" and any(b'"INBOX"' in d for d in data), data)
    typ, data = m.list('""', '""')
    check(data == [b'(\\Noselect) "/" ""'], data)
    m.logout()


def test_append_and_fetch_conversation(s):
    m = s.login("alice")
    typ, data = m.append("INBOX", "(\\Flagged)", '"02-Mar-2026 11:22:33 +0100"',
                         message(subject="first", body="one"))
    check(typ == "OK" and b"APPENDUID" in data[0], data)
    m.append("INBOX", None, None, message(subject="second", body="two"))
    typ, data = m.select("INBOX")
    check(data == [b"2"], data)
    typ, data = m.fetch("1:2", "(UID FLAGS INTERNALDATE RFC822.SIZE)")
    check(b"\\Flagged" in data[0], data)
    check(b'INTERNALDATE "02-Mar-2026 10:22:33 +0000"' in data[0], data)
    size = int(re.search(rb"RFC822.SIZE (\d+)", data[0]).group(1))
    check(size == len(message(subject="first", body="one")), size)
    typ, data = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    check(data[0][1] == b"Subject: second\r\n\r\n", data)
    typ, data = m.fetch("2", "(RFC822)")
    check(data[0][1] == message(subject="second", body="two"), data)
    # RFC822 (not PEEK) set \Seen
    typ, data = m.fetch("2", "FLAGS")
    check(b"\\Seen" in data[0], data)
    m.logout()


def test_store_flags_and_keywords(s):
    m = s.login("alice")
    m.select("INBOX")
    typ, data = m.store("1", "+FLAGS", "(\\Answered $Label1)")
    check(typ == "OK" and b"\\Answered" in data[0] and b"$Label1" in data[0],
          data)
    typ, data = m.store("1", "-FLAGS", "($Label1)")
    check(b"$Label1" not in data[0], data)
    typ, data = m.store("1", "FLAGS.SILENT", "(\\Seen)")
    check(typ == "OK" and data == [None], "SILENT answered: %r" % data)
    typ, data = m.fetch("1", "FLAGS")
    check(b"(\\Seen" in data[0] and b"\\Answered" not in data[0], data)
    try:
        m.store("1", "+FLAGS", "(\\Recent)")
        check(False, "\\Recent accepted")
    except m.error as e:
        check("BAD" in str(e), e)
    m.logout()


def test_search_basic_keys(s):
    m = s.login("alice")
    m.select("INBOX")
    check(m.search(None, "ALL")[1] == [b"1 2"])
    check(m.search(None, "SUBJECT", "second")[1] == [b"2"])
    check(m.search(None, "BODY", "one")[1] == [b"1"])
    check(m.search(None, "NOT", "SEEN")[1] == [b""])
    check(m.search(None, "OR", "SUBJECT", "first", "SUBJECT", "second")[1]
          == [b"1 2"])
    check(m.uid("SEARCH", None, "ALL")[1] == [b"1 2"])
    m.logout()


def test_copy_move_expunge_with_uidplus(s):
    m = s.login("alice")
    check(m.create("Archive")[0] == "OK")
    m.select("INBOX")
    typ, data = m.copy("1:2", "Archive")
    check(typ == "OK" and b"COPYUID" in data[0], data)
    typ, data = m.uid("MOVE", "2", "Archive")
    check(typ == "OK", data)
    check(m.untagged_responses.get("EXPUNGE") == [b"2"] or
          b"2" in m.untagged_responses.get("EXPUNGE", []),
          m.untagged_responses)
    check(m.status("Archive", "(MESSAGES)")[1] ==
          [b'"Archive" (MESSAGES 3)'])
    m.select("Archive")
    m.store("1:2", "+FLAGS", "\\Deleted")
    typ, data = m.expunge()
    # two messages gone: "2 then 1" (descending, no renumbering) or
    # "1 then 1" are both correct
    check(sorted(data) in ([b"1", b"2"], [b"1", b"1"]),
          "EXPUNGE responses %r" % data)
    check(m.select("Archive")[1] == [b"1"])
    typ, data = m.copy("1", "NoSuchBox")
    check(typ == "NO" and b"TRYCREATE" in data[0], data)
    m.logout()


def test_uid_expunge(s):
    m = s.login("alice")
    m.create("UidEx")
    for i in range(3):
        m.append("UidEx", "(\\Deleted)", None, message(subject="d%d" % i))
    m.select("UidEx")
    typ, data = m.uid("EXPUNGE", "2")
    check(typ == "OK" and m.select("UidEx")[1] == [b"2"], data)
    check(m.uid("SEARCH", None, "ALL")[1] == [b"1 3"])
    m.logout()


def test_mailbox_create_rename_delete(s):
    m = s.login("alice")
    check(m.create("Projects/2026/q1")[0] == "OK")
    names = b" ".join(m.list()[1])
    check(b'"Projects/2026/q1"' in names and b'"Projects"' in names, names)
    check(m.rename("Projects", "Old")[0] == "OK")
    names = b" ".join(m.list()[1])
    check(b'"Old/2026/q1"' in names and b'"Projects"' not in names, names)
    check(m.delete("Old/2026/q1")[0] == "OK")
    check(m.create("INBOX")[0] == "NO")
    check(m.delete("INBOX")[0] == "NO")
    check(m.create("Dup")[0] == "OK")
    typ, data = m.create("Dup")
    check(typ == "NO" and b"ALREADYEXISTS" in data[0], data)
    m.logout()


def test_list_patterns(s):
    m = s.login("alice")
    m.create("A/B/C")
    typ, data = m.list('""', "%")
    names = b" ".join(data)
    check(b'"A"' in names and b'"A/B"' not in names, names)
    typ, data = m.list('""', "A/*")
    names = b" ".join(data)
    check(b'"A/B"' in names and b'"A/B/C"' in names, names)
    typ, data = m.list('"A/"', "%")
    check(any(b'"A/B"' in d for d in data), data)
    typ, data = m.list('""', "inbox")
    check(data == [b'(\\HasNoChildren) "/" "INBOX"'], data)
    m.logout()


def test_subscribe_lsub(s):
    m = s.login("alice")
    m.create("Sub1")
    m.subscribe("Sub1")
    m.subscribe("Ghost")
    typ, data = m.lsub()
    names = b" ".join(data)
    check(b'"Sub1"' in names and b'"Ghost"' in names, names)
    m.unsubscribe("Ghost")
    check(b'"Ghost"' not in b" ".join(m.lsub()[1]))
    m.logout()


def test_status(s):
    m = s.login("alice")
    typ, data = m.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
    check(typ == "OK" and b"MESSAGES 1" in data[0], data)
    check(m.status("NoSuch", "(MESSAGES)")[0] == "NO")
    expect("BAD", m.status, "INBOX", "(BOGUS)")
    m.logout()


def test_examine_is_read_only(s):
    m = s.login("alice")
    typ, data = m.select("INBOX", readonly=True)
    check("READ-ONLY" in m.untagged_responses, m.untagged_responses)
    check(m.store("1", "+FLAGS", "\\Deleted")[0] == "NO")
    typ, data = m.fetch("1", "(BODY[])")
    typ, data = m.fetch("1", "FLAGS")
    m.logout()


def test_close_expunges_unselect_does_not(s):
    m = s.login("alice")
    m.create("Cl")
    m.append("Cl", "(\\Deleted)", None, message())
    m.append("Cl", "(\\Deleted)", None, message())
    m.select("Cl")
    m._simple_command("UNSELECT")
    check(m.status("Cl", "(MESSAGES)")[1] == [b'"Cl" (MESSAGES 2)'])
    m.select("Cl")
    m.close()
    check(m.status("Cl", "(MESSAGES)")[1] == [b'"Cl" (MESSAGES 0)'])
    m.logout()


def test_uid_fetch_and_store(s):
    m = s.login("alice")
    m.select("INBOX")
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    check(typ == "OK" and b"UID 1" in data[0], data)
    typ, data = m.uid("STORE", "1", "+FLAGS", "(\\Draft)")
    check(b"\\Draft" in data[0] and b"UID 1" in data[0], data)
    typ, data = m.uid("FETCH", "999", "FLAGS")
    check(typ == "OK" and data == [None], data)
    m.logout()


def test_idle_sees_append_from_other_connection(s):
    a = s.raw()
    a.login("alice")
    a.cmd("s", "SELECT INBOX")
    a.send("i IDLE\r\n")
    check(a.line().startswith(b"+"), "no idle continuation")
    b = s.login("alice")
    b.append("INBOX", None, None, message(subject="while idle"))
    line = a.line(timeout=5)
    check(re.match(rb"\* \d+ EXISTS", line), line)
    # flags set by the other connection
    b.select("INBOX")
    b.store("1", "+FLAGS", "(\\Flagged)")
    got = a.line(timeout=5)
    while b"RECENT" in got:
        got = a.line(timeout=5)
    check(b"FETCH" in got and b"\\Flagged" in got, got)
    # expunge by the other connection
    b.store("1", "+FLAGS", "(\\Deleted)")
    a.line(timeout=5)
    b.expunge()
    got = a.line(timeout=5)
    check(got == b"* 1 EXPUNGE", got)
    a.send("DONE\r\n")
    _, res = a.until("i")
    check(res.startswith(b"i OK"), res)
    b.logout()
    a.close()


def test_noop_reports_changes_of_others(s):
    a = s.login("alice")
    b = s.login("alice")
    a.select("INBOX")
    b.select("INBOX")
    n = int(a.untagged_responses.get("EXISTS", [b"0"])[-1])
    b.append("INBOX", None, None, message(subject="noop"))
    a.noop()
    check(a.untagged_responses.get("EXISTS")[-1] == str(n + 1).encode(),
          a.untagged_responses)
    b.store(str(n + 1), "+FLAGS", "(\\Answered)")
    typ, data = a.noop()
    check(any(b"\\Answered" in d for d in a.untagged_responses.get("FETCH",
                                                                  [])),
          a.untagged_responses)
    a.logout()
    b.logout()


def test_no_expunge_during_fetch(s):
    a = s.login("alice")
    b = s.login("alice")
    a.select("INBOX")
    b.select("INBOX")
    b.store("1", "+FLAGS", "(\\Deleted)")
    b.expunge()
    typ, data = a.fetch("1", "(UID)")
    check("EXPUNGE" not in a.untagged_responses,
          "EXPUNGE sent during FETCH: %r" % a.untagged_responses)
    a.noop()
    check("EXPUNGE" in a.untagged_responses, a.untagged_responses)
    a.logout()
    b.logout()


def test_other_users_do_not_see_changes(s):
    a = s.login("alice")
    b = s.login("bob")
    check(b.select("INBOX")[1] == [b"0"])
    a.append("INBOX", None, None, message())
    b.noop()
    check(b.untagged_responses.get("EXISTS", [b"0"])[-1] == b"0")
    a.logout()
    b.logout()


def test_idle_timeout_and_done_case(s):
    a = s.raw()
    a.login("alice")
    a.cmd("s", "SELECT INBOX")
    a.send("i IDLE\r\n")
    a.line()
    a.send("done\r\n")
    _, res = a.until("i")
    check(res.startswith(b"i OK"), res)
    a.send("j IDLE\r\n")
    a.line()
    a.send("nonsense\r\n")
    _, res = a.until("j")
    check(res.startswith(b"j BAD"), res)
    a.close()


def test_logout(s):
    m = s.login("alice")
    typ, data = m.logout()
    check(typ == "BYE", typ)
