# SPDX-License-Identifier: GPL-2.0-or-later
"""Real clients from Debian: curl (imap://, imaps://, STARTTLS), mbsync (a
two-way sync), and many users and connections at once."""

import os
import shutil
import subprocess
import threading

from dboxd_test import Server, check, descendants, message


def setup():
    s = Server("clients", max_address_connections="200",
               max_user_connections="20")
    s.add_user("alice")
    for i in range(20):
        s.add_user("user%02d" % i, "pw%02d" % i)
    s.start()
    m = s.login("alice")
    m.create("Work")
    m.append("INBOX", None, None, message(subject="curl me", body="curly"))
    m.logout()
    return s


def teardown(s):
    s.cleanup()


def curl(*args):
    r = subprocess.run(["curl", "-s", "-S", "--max-time", "20"] + list(args),
                       capture_output=True, timeout=30)
    check(r.returncode == 0, "curl %r: %d %s" % (args, r.returncode,
                                                 r.stderr))
    return r.stdout


def test_curl_imap_list_and_fetch(s):
    out = curl("imap://127.0.0.1:%d/" % s.port, "-u", "alice:secret")
    check(b'"INBOX"' in out and b'"Work"' in out, out)
    out = curl("imap://127.0.0.1:%d/INBOX;UID=1" % s.port, "-u",
               "alice:secret")
    check(b"Subject: curl me" in out and b"curly" in out, out)


def test_curl_imaps(s):
    out = curl("-k", "imaps://127.0.0.1:%d/INBOX;UID=1" % s.tls_port, "-u",
               "alice:secret")
    check(b"curly" in out, out)


def test_curl_starttls_search(s):
    out = curl("-k", "--ssl-reqd",
               "imap://127.0.0.1:%d/INBOX?SUBJECT%%20curl" % s.port,
               "-u", "alice:secret")
    check(out.strip() == b"* SEARCH 1", out)


def test_curl_wrong_password_fails(s):
    r = subprocess.run(["curl", "-s", "imap://127.0.0.1:%d/" % s.port, "-u",
                        "alice:nope"], capture_output=True, timeout=30)
    check(r.returncode != 0, "curl succeeded with a wrong password")


def test_mbsync_two_way(s):
    if shutil.which("mbsync") is None:
        return "SKIP mbsync (isync) not installed"
    local = os.path.join(s.tmp, "maildir")
    os.makedirs(os.path.join(local, "INBOX", "new"))
    rc = os.path.join(s.tmp, "mbsyncrc")
    with open(rc, "w") as f:
        f.write("""IMAPAccount t
Host 127.0.0.1
Port %d
User alice
Pass secret
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account t

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns INBOX Work
Create Both
Expunge Both
SyncState *
""" % (s.port, local, local))
    # a message only on the local side goes up
    with open(os.path.join(local, "INBOX", "new", "1.local:2,"), "wb") as f:
        f.write(message(subject="from maildir", body="uploaded"))

    def sync():
        r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True,
                           timeout=60)
        check(r.returncode == 0, "mbsync: %s %s" % (r.stdout, r.stderr))
    sync()
    m = s.login("alice")
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", '"from maildir"')
    check(data[0] != b"", "local message not uploaded")
    # and the server's message came down
    found = []
    for d in ("new", "cur"):
        for name in os.listdir(os.path.join(local, "INBOX", d)):
            with open(os.path.join(local, "INBOX", d, name), "rb") as f:
                found.append(f.read())
    check(any(b"curly" in x for x in found), "server message not fetched")
    # a flag set on the server travels down on the next sync
    m.store("1", "+FLAGS", "(\\Flagged)")
    m.logout()
    sync()
    names = os.listdir(os.path.join(local, "INBOX", "cur"))
    check(any(":2," in n and "F" in n.split(":2,")[1] for n in names),
          "flag not synced: %r" % names)


def test_many_users_and_connections_at_once(s):
    errors = []

    def client(i, conn):
        user = "user%02d" % i
        try:
            m = s.login(user, "pw%02d" % i)
            for k in range(3):
                m.append("INBOX", None, None,
                         message(subject="%s-%d-%d" % (user, conn, k)))
            m.select("INBOX")
            typ, data = m.search(None, "SUBJECT", "%s-%d-" % (user, conn))
            if len(data[0].split()) != 3:
                errors.append("%s/%d: %r" % (user, conn, data))
            m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER])")
            m.logout()
        except Exception as e:
            errors.append("%s/%d: %r" % (user, conn, e))
    threads = [threading.Thread(target=client, args=(i, c))
               for i in range(20) for c in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, errors[:5])
    # every user ended with 9 messages
    for i in (0, 7, 19):
        m = s.login("user%02d" % i, "pw%02d" % i)
        check(m.select("INBOX")[1] == [b"9"])
        m.logout()


def test_many_connections_of_one_user_share_a_worker(s):
    conns = [s.login("user05", "pw05") for _ in range(15)]
    for m in conns:
        m.select("INBOX")
    uid = s.users["user05"][0]
    workers = [p for p, u in descendants(s.master_pid()) if u == uid]
    check(len(workers) == 1, "%d workers for one user" % len(workers))
    for m in conns:
        m.logout()


def test_mutt_batch_copy_and_flag(s):
    """mutt, driven by a key sequence under script(1) for a terminal: tag
    messages by subject, copy them to another folder, flag them, sync."""
    if shutil.which("mutt") is None or shutil.which("script") is None:
        return "SKIP mutt or script(1) not installed"
    m = s.login("alice")
    m.create("MuttArchive")
    for i in range(3):
        m.append("INBOX", None, None, message(subject="mutt %d" % i))
    m.logout()
    rc = os.path.join(s.tmp, "muttrc")
    with open(rc, "w") as f:
        f.write('set folder="imap://alice:secret@127.0.0.1:%d/"\n'
                'set spoolfile="+INBOX"\nset ssl_starttls=no\n'
                'set ssl_force_tls=no\nset confirmappend=no\nset move=no\n'
                'set quit=yes\nset header_cache=""\n'
                'set message_cachedir=""\n' % s.port)
    keys = ("<tag-pattern>~s mutt<enter><tag-prefix><copy-message>"
            "=MuttArchive<enter><tag-prefix><flag-message><sync-mailbox>"
            "<quit>")
    cmd = "mutt -n -F %s -e 'push \"%s\"'" % (rc, keys)
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                       env=dict(os.environ, TERM="vt100", HOME=s.tmp),
                       capture_output=True, timeout=60)
    check(r.returncode == 0, r.stdout[-300:])
    m = s.login("alice")
    check(m.status("MuttArchive", "(MESSAGES)")[1] ==
          [b'"MuttArchive" (MESSAGES 3)'], "mutt did not copy")
    m.select("INBOX")
    flagged = m.search(None, "FLAGGED", "SUBJECT", "mutt")[1][0].split()
    check(len(flagged) == 3, "mutt did not flag: %r" % flagged)
    m.logout()
