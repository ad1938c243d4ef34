# SPDX-License-Identifier: GPL-2.0-or-later
"""One protocol test (or more) per advertised extension, and the harder
parts of RFC 3501: FETCH sections and BODYSTRUCTURE of MIME messages, and
every SEARCH key with MIME decoding."""

import re
import zlib

from dboxd_test import Server, b64, check, expect, message

MIME = (
    b'From: "Alice Example" <alice@example.com>\r\n'
    b"To: Bob <bob@example.org>, carol@example.net\r\n"
    b"Cc: undisclosed-recipients:;\r\n"
    b"Subject: =?UTF-8?B?SGVsbG8gd8O2cmxk?=\r\n"
    b"Date: Tue, 3 Mar 2026 10:00:00 +0100\r\n"
    b"Message-ID: <abc@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="XYZ"\r\n'
    b"\r\n"
    b"preamble\r\n"
    b"--XYZ\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Gr=FC=DFe aus K=F6ln\r\n"
    b"--XYZ\r\n"
    b'Content-Type: application/octet-stream; name="a.bin"\r\n'
    b'Content-Disposition: attachment; filename="a.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAwQFBgc=\r\n"
    b"--XYZ\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    + b64("<p>secret sauce</p>").encode() + b"\r\n"
    b"--XYZ\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"From: inner@example.com\r\n"
    b"Subject: inner\r\n"
    b"\r\n"
    b"inner body\r\n"
    b"--XYZ--\r\n"
    b"epilogue\r\n")


def setup():
    s = Server("ext")
    s.add_user("alice")
    s.start()
    m = s.login("alice")
    m.create("Mime")
    m.append("Mime", None, None, MIME)
    m.append("Mime", "(\\Seen $Work)", '"01-Jan-2020 10:00:00 +0000"',
             b"From: zed@x.org\r\nSubject: Re: plain one\r\n"
             b"Date: 5 Jan 2020 10:00:00 +0000\r\n\r\nsome text\r\n")
    m.logout()
    return s


def teardown(s):
    s.cleanup()


def run(m, *args, state=None):
    """A raw imaplib command with fresh untagged responses."""
    import imaplib
    imaplib.Commands.setdefault(args[0], ("AUTH", "SELECTED"))
    m.untagged_responses = {}
    typ, data = m._simple_command(*args)
    if state is not None and typ == "OK":
        m.state = state
    return typ, data


def sel(s, box="Mime"):
    m = s.login("alice")
    m.select(box)
    return m


# ---- FETCH of MIME structure ------------------------------------------

def test_fetch_bodystructure(s):
    m = sel(s)
    typ, data = m.fetch("1", "BODYSTRUCTURE")
    bs = data[0]
    check(b'("text" "plain" ("charset" "iso-8859-1") NIL NIL '
          b'"quoted-printable"' in bs, bs)
    check(b'("attachment" ("filename" "a.bin"))' in bs, bs)
    check(b'"mixed" ("boundary" "XYZ")' in bs, bs)
    check(b'("message" "rfc822" NIL NIL NIL "7bit"' in bs, bs)
    check(bs.count(b"(") == bs.count(b")"), "unbalanced: %r" % bs)
    typ, data = m.fetch("1", "BODY")
    check(b"attachment" not in data[0], "BODY has extension data")
    m.logout()


def test_fetch_envelope(s):
    m = sel(s)
    typ, data = m.fetch("1", "ENVELOPE")
    env = data[0]
    check(b'"=?UTF-8?B?SGVsbG8gd8O2cmxk?="' in env, env)
    check(b'(("Alice Example" NIL "alice" "example.com"))' in env, env)
    check(b'(("Bob" NIL "bob" "example.org")(NIL NIL "carol" '
          b'"example.net"))' in env, env)
    check(b'((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))'
          in env, env)
    check(b'"<abc@example.com>"' in env, env)
    m.logout()


def test_fetch_sections(s):
    m = sel(s)
    typ, data = m.fetch("1", "(BODY.PEEK[1] BODY.PEEK[2.MIME] "
                             "BODY.PEEK[4.HEADER] BODY.PEEK[4.TEXT] "
                             "BODY.PEEK[TEXT]<0.8> "
                             "BODY.PEEK[HEADER.FIELDS.NOT (Date To Cc "
                             "Subject Message-ID MIME-Version "
                             "Content-Type)])")
    parts = {re.search(rb"(\S+) \{\d+\}$", d[0]).group(1).lstrip(b"("):
             d[1] for d in data if isinstance(d, tuple)}
    check(parts[b"BODY[1]"] == b"Gr=FC=DFe aus K=F6ln", parts)
    check(parts[b"BODY[2.MIME]"].startswith(b"Content-Type: application"),
          parts)
    check(parts[b"BODY[4.HEADER]"] ==
          b"From: inner@example.com\r\nSubject: inner\r\n\r\n", parts)
    check(parts[b"BODY[4.TEXT]"] == b"inner body", parts)
    check(parts[b"BODY[TEXT]<0>"] == b"preamble", parts)
    hf = [d[1] for d in data if isinstance(d, tuple) and b"NOT" in d[0]][0]
    check(hf == b'From: "Alice Example" <alice@example.com>\r\n\r\n', hf)
    typ, data = m.fetch("1", "(FLAGS)")
    check(b"\\Seen" not in data[0], "PEEK set \\Seen")
    m.logout()


def test_binary(s):
    m = sel(s)
    typ, data = m.fetch("1", "(BINARY.PEEK[2] BINARY.SIZE[1] BINARY.PEEK[3])")
    check(data[0][1] == bytes(range(8)), data)
    check(b"BINARY.SIZE[1] 14" in data[1][0], data)
    check(data[1][1] == b"<p>secret sauce</p>", data)
    # literal8 in APPEND
    r = s.raw()
    r.login("alice")
    body = b"Subject: bin\r\n\r\nnul\x00byte\r\n"
    r.send(b"a APPEND Mime ~{%d+}\r\n" % len(body) + body + b"\r\n")
    _, res = r.until("a")
    check(res.startswith(b"a OK"), res)
    r.close()
    m.logout()


def test_fetch_macros_and_uid(s):
    m = sel(s)
    typ, data = m.fetch("2", "ALL")
    check(b"ENVELOPE" in data[0] and b"INTERNALDATE" in data[0], data)
    typ, data = m.uid("FETCH", "2", "FAST")
    check(b"UID 2" in data[0] and b"RFC822.SIZE" in data[0], data)
    typ, data = m.fetch("2", "FULL")
    check(b"BODY (" in data[0], data)
    m.logout()


def test_fetch_marks_seen(s):
    m = sel(s)
    typ, data = m.fetch("1", "(BODY[1])")
    check(b"\\Seen" in data[0][0], "no FLAGS in the answer: %r" % data)
    m.store("1", "-FLAGS", "(\\Seen)")
    m.logout()


# ---- SEARCH ---------------------------------------------------------------

def search(m, *crit, charset=None):
    typ, data = m.search(charset, *crit)
    check(typ == "OK", data)
    return data[0].decode()


def test_search_mime_decoding(s):
    m = sel(s)
    m.literal = "wörld".encode()
    check(search(m, "SUBJECT", charset="UTF-8") == "1", "RFC 2047 subject")
    m.literal = "grüße".encode()
    check(search(m, "BODY", charset="UTF-8") == "1",
          "quoted-printable latin-1 body")
    m.literal = "KÖLN".encode()
    check(search(m, "TEXT", charset="UTF-8") == "1", "case folding")
    check(search(m, "BODY", "sauce") == "1", "base64 html part")
    check(search(m, "BODY", "inner") == "1", "message/rfc822 part")
    check(search(m, "BODY", "AAECAwQ") == "", "searched an attachment")
    m.logout()


def test_search_every_key(s):
    m = sel(s)
    cases = [
        (("ALL",), "1 2 3"), (("ANSWERED",), ""), (("UNANSWERED",), "1 2 3"),
        (("SEEN",), "2"), (("UNSEEN",), "1 3"), (("DELETED",), ""),
        (("UNDELETED",), "1 2 3"), (("DRAFT",), ""), (("UNDRAFT",), "1 2 3"),
        (("FLAGGED",), ""), (("UNFLAGGED",), "1 2 3"),
        (("KEYWORD", "$Work"), "2"), (("UNKEYWORD", "$Work"), "1 3"),
        (("FROM", "alice"), "1"), (("TO", "carol"), "1"),
        (("CC", "undisclosed"), "1"), (("BCC", "x"), ""),
        (("SUBJECT", "plain"), "2"), (("HEADER", "Message-ID", "abc"), "1"),
        (("HEADER", "Message-ID", '""'), "1"),
        (("LARGER", "500"), "1"), (("SMALLER", "500"), "2 3"),
        (("BEFORE", "1-Feb-2020"), "2"), (("ON", "1-Jan-2020"), "2"),
        (("SINCE", "1-Feb-2020"), "1 3"),
        (("SENTBEFORE", "1-Jan-2021"), "2"), (("SENTON", "3-Mar-2026"), "1"),
        (("SENTSINCE", "1-Jan-2026"), "1"),  # 3 has no Date:
        (("NOT", "SEEN"), "1 3"), (("OR", "SEEN", "FROM", "alice"), "1 2"),
        (("2:*",), "2 3"), (("UID", "1,3"), "1 3"), (("(SEEN KEYWORD $Work)",),
                                                      "2"),
        (("TEXT", "epilogue"), ""),  # not in any part (as Dovecot)
        (("TEXT", "Subject"), "1 2 3"), (("BODY", "some"), "2"),
    ]
    for crit, want in cases:
        got = search(m, *crit)
        check(got == want, "SEARCH %s: %r, want %r" % (" ".join(crit), got,
                                                        want))
    expect("BAD", m.search, None, "BOGUS")
    expect("NO", m.search, "X-UNKNOWN-CHARSET", "ALL")
    m.logout()


def test_search_recent_new_old(s):
    m = s.login("alice")
    m.create("Rec")
    m.append("Rec", None, None, message(subject="r1"))
    m.append("Rec", "(\\Seen)", None, message(subject="r2"))
    m.select("Rec")
    check(search(m, "RECENT") == "1 2")
    check(search(m, "NEW") == "1")
    check(search(m, "OLD") == "")
    other = s.login("alice")
    other.select("Rec")
    # \Recent belongs to the session that saw the messages first
    check(search(other, "RECENT") == "" and search(other, "OLD") == "1 2")
    other.logout()
    m.logout()


def test_esearch(s):
    m = sel(s)
    typ, data = run(m, "SEARCH", "RETURN", "(MIN MAX COUNT ALL)",
                                  "ALL")
    check(m.untagged_responses["ESEARCH"][-1].endswith(
        b"MIN 1 MAX 3 COUNT 3 ALL 1:3"), m.untagged_responses)
    typ, data = run(m, "UID", "SEARCH", "RETURN", "()", "SEEN")
    check(m.untagged_responses["ESEARCH"][-1].endswith(b"UID ALL 2"),
          m.untagged_responses)
    m.logout()


# ---- SORT / THREAD ----------------------------------------------------

def test_sort_and_thread(s):
    m = s.login("alice")
    m.create("Thr")
    def mk(subj, date, mid, refs=None, frm="a@x"):
        h = "From: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n" % (
            frm, subj, date, mid)
        if refs:
            h += "References: %s\r\n" % refs
        return (h + "\r\nbody\r\n").encode()
    for msg in (mk("Hello", "1 Jan 2024 10:00 +0000", "a@x"),
                mk("Re: Hello", "2 Jan 2024 10:00 +0000", "b@x", "<a@x>",
                   "c@x"),
                mk("Other", "1 Jan 2023 10:00 +0000", "c@x", None, "b@x"),
                mk("RE: [list] Hello", "3 Jan 2024 10:00 +0000", "d@x",
                   "<a@x> <b@x>"),
                mk("Fwd: Hello (fwd)", "4 Jan 2024 10:00 +0000", "e@x",
                   "<a@x>")):
        m.append("Thr", None, None, msg)
    m.select("Thr")
    check(m.sort("(SUBJECT)", "UTF-8", "ALL")[1] == [b"1 2 4 5 3"])
    check(m.sort("(REVERSE DATE)", "UTF-8", "ALL")[1] == [b"5 4 2 1 3"])
    check(m.sort("(FROM ARRIVAL)", "UTF-8", "ALL")[1] == [b"1 4 5 3 2"])
    check(m.sort("(SIZE)", "UTF-8", "SUBJECT", "Hello")[1][0].split()[0]
          == b"1")
    check(m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")[1] ==
          [b"(3)(1 (2)(4)(5))"], m.thread("ORDEREDSUBJECT", "UTF-8", "ALL"))
    check(m.thread("REFERENCES", "UTF-8", "ALL")[1] ==
          [b"(3)(1 (2 4)(5))"], m.thread("REFERENCES", "UTF-8", "ALL"))
    expect("BAD", m.sort, "(BOGUS)", "UTF-8", "ALL")
    m.logout()


# ---- CONDSTORE / QRESYNC --------------------------------------------------

def test_condstore(s):
    m = s.login("alice")
    m.create("Cond")
    m.append("Cond", None, None, message())
    m.append("Cond", None, None, message())
    typ, data = run(m, "SELECT", "Cond", "(CONDSTORE)", state="SELECTED")
    check("HIGHESTMODSEQ" in m.untagged_responses, m.untagged_responses)
    typ, data = m.fetch("1:2", "(MODSEQ)")
    mods = [int(re.search(rb"MODSEQ \((\d+)\)", d).group(1)) for d in data]
    typ, data = m.store("1", "+FLAGS", "(\\Seen)")
    check(b"MODSEQ" in data[0], "STORE answer lacks MODSEQ: %r" % data)
    new = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
    check(new > max(mods), (new, mods))
    # UNCHANGEDSINCE: message 1 changed after mods[0]
    typ, data = run(m, "STORE", "1:2",
                                  "(UNCHANGEDSINCE %d)" % mods[1],
                                  "+FLAGS", "(\\Flagged)")
    check(b"[MODIFIED 1]" in m.untagged_responses.get("MODIFIED", [b""])[0]
          or any(b"MODIFIED" in x for x in [data[0] or b""]) or
          "MODIFIED" in m.untagged_responses,
          "no MODIFIED: %r %r" % (data, m.untagged_responses))
    typ, data = m.fetch("1:*", "(FLAGS) (CHANGEDSINCE %d)" % (new - 1))
    check(len([d for d in data if d]) >= 1, data)
    check(m.search(None, "MODSEQ", str(new))[1][0].startswith(b"1"), "")
    typ, data = m.status("Cond", "(HIGHESTMODSEQ)")
    check(b"HIGHESTMODSEQ" in data[0], data)
    m.logout()


def test_qresync(s):
    m = s.login("alice")
    run(m, "ENABLE", "QRESYNC")
    check(b"QRESYNC" in m.untagged_responses["ENABLED"][0])
    m.create("Qr")
    for i in range(3):
        m.append("Qr", None, None, message(subject="q%d" % i))
    typ, data = run(m, "SELECT", "Qr", state="SELECTED")
    uidv = int(m.untagged_responses["UIDVALIDITY"][0])
    hms = int(m.untagged_responses["HIGHESTMODSEQ"][0])
    m.store("2", "+FLAGS", "(\\Deleted)")
    run(m, "EXPUNGE")
    check(m.untagged_responses.get("VANISHED") == [b"2"],
          "no VANISHED after ENABLE QRESYNC: %r" % m.untagged_responses)
    m.store("1", "+FLAGS", "(\\Flagged)")
    run(m, "UNSELECT", state="AUTH")
    typ, data = run(m, "SELECT", "Qr", "(QRESYNC (%d %d))" %
                    (uidv, hms), state="SELECTED")
    check(m.untagged_responses.get("VANISHED") == [b"(EARLIER) 2"],
          m.untagged_responses)
    check(any(b"\\Flagged" in f for f in m.untagged_responses.get("FETCH",
                                                                   [])),
          m.untagged_responses)
    typ, data = run(m, "UID", "FETCH", "1:*", "(FLAGS)",
                                  "(CHANGEDSINCE %d VANISHED)" % hms)
    check(m.untagged_responses.get("VANISHED", [b""])[-1] ==
          b"(EARLIER) 2", m.untagged_responses)
    m.logout()


# ---- mailbox-level extensions ---------------------------------------------

def test_special_use_and_list_extended(s):
    m = s.login("alice")
    typ, data = run(m, "CREATE", "Sent", "(USE (\\Sent))")
    check(typ == "OK", data)
    typ, data = run(m, "CREATE", "Bad", "(USE (\\Bogus))")
    check(typ == "NO" and b"USEATTR" in data[0], data)
    typ, data = m.list('""', "Sent")
    check(b"\\Sent" in data[0], data)
    run(m, "LIST", "(SPECIAL-USE)", '""', "*")
    lines = m.untagged_responses.get("LIST", [])
    check(len(lines) == 1 and b"\\Sent" in lines[0], lines)
    m.subscribe("Sent")
    run(m, "LIST", "(SUBSCRIBED)", '""', "*", "RETURN",
                      "(CHILDREN)")
    lines = m.untagged_responses.get("LIST", [])
    check(all(b"\\Subscribed" in ln for ln in lines) and lines, lines)
    m.logout()


def test_list_status(s):
    m = s.login("alice")
    run(m, "LIST", '""', "Mime", "RETURN",
                      "(STATUS (MESSAGES UNSEEN SIZE))")
    st = m.untagged_responses.get("STATUS", [])
    check(st and b"MESSAGES 3" in st[0] and b"SIZE" in st[0], st)
    m.logout()


def test_children(s):
    m = s.login("alice")
    m.create("Par/Kid")
    data = b" ".join(m.list('""', "Par*")[1])
    check(re.search(rb'\((\\Noselect )?\\HasChildren\) "/" "Par"', data), data)
    check(b'(\\HasNoChildren) "/" "Par/Kid"' in data, data)
    m.logout()


def test_status_size_and_appendlimit(s):
    m = s.login("alice")
    typ, data = m.status("Mime", "(SIZE APPENDLIMIT)")
    check(re.search(rb"SIZE \d+", data[0]) and b"APPENDLIMIT" in data[0],
          data)
    check(b"APPENDLIMIT=" in m.capability()[1][0])
    m.logout()


def test_multiappend_and_literal_plus(s):
    r = s.raw()
    r.login("alice")
    r.cmd("c", "CREATE Multi")
    a, b = message(subject="m1"), message(subject="m2")
    r.send(b"a APPEND Multi {%d+}\r\n" % len(a) + a +
           b" (\\Seen) {%d+}\r\n" % len(b) + b + b"\r\n")
    _, res = r.until("a")
    check(re.match(rb"a OK \[APPENDUID \d+ 1:2\]", res), res)
    lines, res = r.cmd("s", "STATUS Multi (MESSAGES UNSEEN)")
    check(lines == [b'* STATUS "Multi" (MESSAGES 2 UNSEEN 1)'], lines)
    r.close()


def test_id_enable_namespace_unselect(s):
    m = s.login("alice")
    typ, data = run(m, "ID", "NIL")
    check(m.untagged_responses["ID"][0] == b'("name" "dboxd")')
    typ, data = m.namespace()
    check(data == [b'(("" "/")) NIL NIL'], data)
    run(m, "ENABLE", "CONDSTORE")
    check(m.untagged_responses["ENABLED"] == [b"CONDSTORE"])
    m.select("Mime")
    typ, data = run(m, "UNSELECT")
    check(typ == "OK")
    expect("BAD", m.fetch, "1", "FLAGS")
    m.logout()


def test_utf8_accept(s):
    r = s.raw()
    r.login("alice")
    lines, res = r.cmd("e", "ENABLE UTF8=ACCEPT")
    check(lines == [b"* ENABLED UTF8=ACCEPT"], lines)
    lines, res = r.cmd("c", 'CREATE "Größe"'.encode())
    check(res.startswith(b"c OK"), res)
    lines, res = r.cmd("l", 'LIST "" "Gr*"')
    check(any("Größe".encode() in ln for ln in lines), lines)
    r.close()
    m = s.login("alice")
    data = b" ".join(m.list('""', "Gr*")[1])
    check(b'"Gr&APYA3w-e"' in data, data)
    m.logout()


def test_compress_deflate(s):
    r = s.raw()
    r.login("alice")
    lines, res = r.cmd("z", "COMPRESS DEFLATE")
    check(res == b"z OK DEFLATE active", res)
    comp = zlib.compressobj(-1, zlib.DEFLATED, -15)
    dec = zlib.decompressobj(-15)
    r.sock.sendall(comp.compress(b"a SELECT Mime\r\nb FETCH 1 (BODY.PEEK[1])"
                                 b"\r\n") + comp.flush(zlib.Z_SYNC_FLUSH))
    out = r.buf
    r.buf = b""
    text = dec.decompress(out) if out else b""
    r.sock.settimeout(10)
    while b"b OK" not in text:
        chunk = r.sock.recv(65536)
        check(chunk, "closed; got %r" % text)
        text += dec.decompress(chunk)
    check(b"a OK [READ-WRITE]" in text and b"Gr=FC=DFe" in text, text)
    r.close()


def test_move_and_uidplus_codes(s):
    m = s.login("alice")
    m.create("MvSrc")
    m.create("MvDst")
    m.append("MvSrc", None, None, message())
    m.select("MvSrc")
    typ, data = run(m, "MOVE", "1", "MvDst")
    check(typ == "OK")
    check(any(b"COPYUID" in x for x in m.untagged_responses.get("OK", [])),
          m.untagged_responses)
    check(m.untagged_responses.get("EXPUNGE") == [b"1"],
          m.untagged_responses)
    m.logout()


def test_compress_dictionary_reset_after_tagged_reply(s):
    """After each tagged reply the deflate stream is flushed with
    Z_FULL_FLUSH: what follows decompresses with a fresh inflater, so no
    later reply can be matched against an earlier one's data."""
    r = s.raw()
    r.login("alice")
    r.cmd("z", "COMPRESS DEFLATE")
    comp = zlib.compressobj(-1, zlib.DEFLATED, -15)
    r.sock.settimeout(10)
    chunks = []
    for tag in ("a", "b"):
        cmd = b"%s FETCH 1 (BODY.PEEK[HEADER])\r\n" % tag.encode()
        if tag == "a":
            cmd = b"s SELECT Mime\r\n" + cmd
        r.sock.sendall(comp.compress(cmd) + comp.flush(zlib.Z_SYNC_FLUSH))
        # a fresh inflater for each reply: it has no history
        dec = zlib.decompressobj(-15)
        text = b""
        while (b"%s OK" % tag.encode()) not in text:
            chunk = r.sock.recv(65536)
            check(chunk, "closed")
            try:
                text += dec.decompress(chunk)
            except zlib.error as e:
                check(False, "reply %s needs earlier history: %s" % (tag, e))
        chunks.append(text)
    check(b"From: \"Alice Example\"" in chunks[1], chunks[1][:200])
    r.close()
