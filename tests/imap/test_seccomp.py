# SPDX-License-Identifier: GPL-2.0-or-later
"""seccomp for the workers and the worker template (worker_seccomp): both
run under a filter (Seccomp: 2), a template-forked worker adds its own on
top of the template's, exec'd workers install it too, a worker does a whole
session under it (APPEND, FETCH, SEARCH with a charset iconv loads,
COMPRESS, IDLE, LMTP delivery), a worker killed by SIGSYS is logged as
such, worker_seccomp = no leaves them unfiltered, and with log_target =
syslog a worker may make the socket syslog(3) reconnects with. That a forbidden
syscall kills a worker is checked by the unit test common/test-seccomp.c."""

import os
import signal
import smtplib
import zlib

from dboxd_test import (Server, check, descendants, free_port, message,
                        wait_for)


def status_fields(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def setup():
    s = Server("seccomp", worker_linger="1s")
    s.lmtp_port = free_port()
    s.settings["lmtp_listen"] = "127.0.0.1:%d" % s.lmtp_port
    s.write_config()
    s.add_user("alice")
    s.add_user("bob")
    return s.start()


def teardown(s):
    s.cleanup()


def worker_of(s, user):
    uid = s.users[user][0]
    pids = wait_for(lambda: [p for p, u in descendants(s.master_pid())
                             if u == uid])
    check(len(pids) == 1, "%s has workers %r" % (user, pids))
    return pids[0]


def template_of(s):
    roots = [p for p, u in descendants(s.master_pid()) if u == 0]
    check(len(roots) == 1, "expected one root child: %r" % roots)
    return roots[0]


def test_template_runs_under_its_filter(s):
    st = status_fields(template_of(s))
    check(st["Seccomp"] == "2", st["Seccomp"])
    check(st["NoNewPrivs"] == "1", "template without no_new_privs")


def test_worker_adds_its_filter_to_the_templates(s):
    m = s.login("alice")
    m.select("INBOX")
    st = status_fields(worker_of(s, "alice"))
    tmpl = status_fields(template_of(s))
    check(st["Seccomp"] == "2", st["Seccomp"])
    if "Seccomp_filters" in st:
        check(int(st["Seccomp_filters"]) ==
              int(tmpl["Seccomp_filters"]) + 1,
              "worker filters %s, template %s" %
              (st["Seccomp_filters"], tmpl["Seccomp_filters"]))
    m.logout()


def test_whole_session_under_the_filter(s):
    m = s.login("bob")
    latin1 = ("From: a@example.com\r\nTo: bob@example.org\r\n"
              "Subject: caf\xe9\r\nContent-Type: text/plain; "
              "charset=iso-8859-1\r\n\r\nna\xefve r\xe9sum\xe9\r\n"
              ).encode("latin-1")
    m.append("INBOX", None, None, latin1)
    m.create("Archive")
    m.select("INBOX")
    typ, data = m.fetch("1", "(BODY[] BODYSTRUCTURE ENVELOPE)")
    check(typ == "OK", data)
    # a charset other than UTF-8 makes iconv load its module
    m.literal = "r\xe9sum\xe9".encode("latin-1")
    typ, data = m.search("ISO-8859-1", "BODY")
    check(typ == "OK" and data[0] == b"1", data)
    m.copy("1", "Archive")
    m.store("1", "+FLAGS", "(\\Deleted)")
    m.expunge()
    pid = worker_of(s, "bob")
    # IDLE while LMTP delivers, then COMPRESS
    r = s.raw()
    r.login("bob")
    r.cmd("s", "SELECT INBOX")
    r.send("i IDLE\r\n")
    r.line()
    c = smtplib.LMTP("127.0.0.1", s.lmtp_port, timeout=20)
    c.sendmail("a@b", ["bob"], message(subject="during idle"))
    c.quit()
    line = r.line(timeout=5)
    check(b"EXISTS" in line, line)
    r.send("DONE\r\n")
    r.until("i")
    r.cmd("z", "COMPRESS DEFLATE")
    comp = zlib.compressobj(wbits=-15)
    r.sock.sendall(comp.compress(b"n NOOP\r\n") +
                   comp.flush(zlib.Z_SYNC_FLUSH))
    r.sock.settimeout(10)
    out = zlib.decompressobj(wbits=-15).decompress(r.sock.recv(4096))
    check(b"n OK" in out, out)
    r.close()
    m.logout()
    check(os.path.exists("/proc/%d" % pid) and
          status_fields(pid)["State"][0] != "Z",
          "bob's worker died: %s" % s.log_tail())
    check("killed by signal" not in s.log_text(), s.log_tail())


def test_worker_killed_by_sigsys_is_logged(s):
    m = s.login("alice")
    m.select("INBOX")
    pid = worker_of(s, "alice")
    # what the kernel does to a worker that made a forbidden syscall
    os.kill(pid, signal.SIGSYS)
    check(wait_for(lambda: "killed by signal 31 (a syscall outside its "
                   "seccomp filter" in s.log_text()), s.log_tail())
    try:
        m.logout()
    except Exception:
        pass


def _variant(name, **settings):
    v = Server(name, **settings)
    try:
        v.add_user("carol")
        v.start()
        m = v.login("carol")
        m.select("INBOX")
    except Exception:
        v.cleanup()
        raise
    return v, m


def test_exec_workers_install_the_filter(s):
    v, m = _variant("seccomp-exec", worker_spawn="exec")
    try:
        st = status_fields(worker_of(v, "carol"))
        check(st["Seccomp"] == "2", st["Seccomp"])
        if "Seccomp_filters" in st:
            check(st["Seccomp_filters"] == "1", st["Seccomp_filters"])
        m.append("INBOX", None, None, message())
        check(m.fetch("1", "(BODY[])")[0] == "OK")
        m.logout()
    finally:
        v.cleanup()


def test_worker_seccomp_off(s):
    v, m = _variant("seccomp-off", worker_seccomp="no",
                    worker_spawn="exec")
    try:
        st = status_fields(worker_of(v, "carol"))
        check(st["Seccomp"] == "0", "filter with worker_seccomp = no")
        m.logout()
    finally:
        v.cleanup()
    v, m = _variant("seccomp-off-tmpl", worker_seccomp="no")
    try:
        check(status_fields(template_of(v))["Seccomp"] == "0",
              "template filtered with worker_seccomp = no")
        check(status_fields(worker_of(v, "carol"))["Seccomp"] == "0")
        m.logout()
    finally:
        v.cleanup()


def test_syslog_worker_may_reconnect_to_syslog(s):
    # log_target = syslog lets the worker make the AF_UNIX socket syslog(3)
    # reconnects with (every message, where /dev/log is missing); with
    # stderr that socket would kill it (common/test-seccomp.c)
    v, m = _variant("seccomp-syslog", log_target="syslog")
    try:
        pid = worker_of(v, "carol")
        m.append("INBOX", None, None, message())
        check(m.fetch("1", "(BODY[])")[0] == "OK")
        m.logout()
        st = status_fields(pid)
        check(st["Seccomp"] == "2" and st["State"][0] != "Z",
              "worker gone or unfiltered: %r" % st.get("State"))
    finally:
        v.cleanup()
