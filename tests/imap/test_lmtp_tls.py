# SPDX-License-Identifier: GPL-2.0-or-later
"""LMTP over TLS (STARTTLS, RFC 3207, as Postfix's lmtp client uses it with
lmtp_tls_security_level): Python's smtplib.LMTP with starttls() and swaks
--tls deliver over TLS; input pipelined after STARTTLS is discarded;
lmtp_require_tls refuses MAIL in the clear from a non-loopback address but
not from loopback or the Unix socket; certificate errors name file and
line."""

import os
import shutil
import smtplib
import socket
import ssl
import subprocess

from dboxd_test import (DBOXD, Server, check, free_port, inbox, message,
                        tls_context)


def outside_address():
    """A local IPv4 address that is not loopback, or None."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"],
                             capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        addr = line.split()[3].split("/")[0]
        if not addr.startswith("127."):
            return addr
    return None


def setup():
    s = Server("lmtptls")
    s.lmtp_port = free_port()
    s.lmtp_sock = os.path.join(s.tmp, "lmtp.sock")
    listen = ["127.0.0.1:%d" % s.lmtp_port, s.lmtp_sock]
    s.outside = outside_address()
    if s.outside is not None:
        s.outside_port = free_port()
        listen.append("%s:%d" % (s.outside, s.outside_port))
    s.settings["lmtp_listen"] = ", ".join(listen)
    s.settings["lmtp_hostname"] = "mx.test"
    s.settings["lmtp_require_tls"] = "yes"
    s.write_config()
    s.add_user("alice")
    s.add_user("bob")
    return s.start()


def teardown(s):
    s.cleanup()


def lmtp(s, host="127.0.0.1", port=None):
    return smtplib.LMTP(host, port or s.lmtp_port, timeout=20)


def test_lhlo_offers_starttls_until_tls_is_on(s):
    c = lmtp(s)
    code, text = c.ehlo("client.test")
    check(code == 250 and b"STARTTLS" in text, text)
    code, text = c.starttls(context=tls_context())
    check(code == 220, (code, text))
    check(c.sock.version() in ("TLSv1.2", "TLSv1.3"), c.sock.version())
    code, text = c.ehlo("client.test")
    check(code == 250 and b"STARTTLS" not in text,
          "STARTTLS offered again over TLS: %r" % text)
    code, text = c.docmd("STARTTLS")
    check(code == 503, "second STARTTLS: %r" % ((code, text),))
    c.quit()


def test_smtplib_delivers_over_tls(s):
    c = lmtp(s)
    c.ehlo("x")
    c.starttls(context=tls_context())
    c.ehlo("x")
    refused = c.sendmail("tls@example.org", ["alice@example.com"],
                         message(subject="over tls", body="secret body"))
    check(refused == {}, refused)
    c.quit()
    msgs = [m for m in inbox(s, "alice") if b"over tls" in m]
    check(len(msgs) == 1 and b"secret body" in msgs[0], msgs)


def test_swaks_tls(s):
    if shutil.which("swaks") is None:
        return "SKIP swaks not installed"
    out = subprocess.run(["swaks", "--protocol", "LMTP", "--server",
                          "127.0.0.1", "--port", str(s.lmtp_port), "--tls",
                          "--to", "bob@example.com", "--from",
                          "swaks@example.org", "--header",
                          "Subject: swaks over tls", "--body", "tls body"],
                         capture_output=True, timeout=30)
    check(out.returncode == 0, out.stdout[-800:])
    check(b"TLS started" in out.stdout, out.stdout[-800:])
    check(any(b"Subject: swaks over tls" in m for m in inbox(s, "bob")))


def test_input_pipelined_after_starttls_is_discarded(s):
    sock = socket.create_connection(("127.0.0.1", s.lmtp_port), 10)
    f = sock.makefile("rb")
    check(f.readline().startswith(b"220 "))
    sock.sendall(b"LHLO x\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    # the NOOP rides in the clear behind STARTTLS: it must be dropped
    sock.sendall(b"STARTTLS\r\nNOOP\r\n")
    check(f.readline().startswith(b"220 "), "no 220 to STARTTLS")
    t = tls_context().wrap_socket(sock)
    tf = t.makefile("rb")
    t.sendall(b"RSET\r\n")
    line = tf.readline()
    check(line.startswith(b"250 2.0.0"), "first reply over TLS: %r" % line)
    t.settimeout(0.5)
    try:
        extra = tf.readline()
    except (socket.timeout, ssl.SSLError):
        extra = b""
    check(extra == b"", "reply to the injected NOOP: %r" % extra)
    t.close()


def test_starttls_errors(s):
    c = lmtp(s)
    c.ehlo("x")
    code, _ = c.docmd("STARTTLS", "now")
    check(code == 501, "STARTTLS with an argument: %d" % code)
    c.docmd("RSET")
    c.mail("a@b")
    code, _ = c.docmd("STARTTLS")
    check(code == 503, "STARTTLS inside a transaction: %d" % code)
    c.quit()


def test_loopback_and_unix_socket_need_no_tls(s):
    c = lmtp(s)
    c.ehlo("x")
    code, text = c.mail("a@b")
    check(code == 250, "loopback refused in the clear: %r" % text)
    c.quit()
    u = smtplib.LMTP(s.lmtp_sock, timeout=20)
    u.ehlo("x")
    code, text = u.mail("a@b")
    check(code == 250, "Unix socket refused in the clear: %r" % text)
    u.quit()


def test_require_tls_off_loopback(s):
    if s.outside is None:
        return "SKIP no non-loopback IPv4 address on this host"
    c = lmtp(s, s.outside, s.outside_port)
    c.ehlo("x")
    code, text = c.mail("a@b")
    check(code == 530 and b"STARTTLS" in text, (code, text))
    c.starttls(context=tls_context())
    c.ehlo("x")
    refused = c.sendmail("far@example.org", ["bob"],
                         message(subject="from afar over tls"))
    check(refused == {}, refused)
    c.quit()
    check(any(b"from afar over tls" in m for m in inbox(s, "bob")))


def test_lmtp_runs_under_seccomp_after_tls(s):
    from dboxd_test import LOGIN_UID, descendants
    # login and lmtp both run as login_user; the TLS sessions above were
    # served under the filter
    pids = [p for p, u in descendants(s.master_pid()) if u == LOGIN_UID]
    check(len(pids) >= 2, "login and lmtp not found: %r" % pids)
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            check("Seccomp:\t2" in f.read(), "pid %d" % pid)


def _check_config(tmp, text):
    path = os.path.join(tmp, "tls-check.conf")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([DBOXD, "-n", "-c", path], capture_output=True,
                       text=True, timeout=30)
    return path, r


def test_bad_certificate_names_file_and_line(s):
    junk = os.path.join(s.tmp, "junk.pem")
    with open(junk, "w") as f:
        f.write("not a certificate\n")
    path, r = _check_config(s.tmp, "login_user = 1:1\nauth_user = 2:2\n"
                            "lmtp_listen = 127.0.0.1:%d\n"
                            "ssl_cert = %s\nssl_key = %s\n" %
                            (free_port(), junk, s.key))
    check(r.returncode != 0, "bad ssl_cert accepted")
    check("%s:4: ssl_cert %s" % (path, junk) in r.stderr, r.stderr)
    path, r = _check_config(s.tmp, "login_user = 1:1\nauth_user = 2:2\n"
                            "ssl_cert = %s\nssl_key = %s\n" %
                            (s.cert, os.path.join(s.tmp, "missing.pem")))
    check(r.returncode != 0 and "%s:4: ssl_key" % path in r.stderr,
          r.stderr)


def test_require_tls_needs_a_certificate(s):
    path, r = _check_config(s.tmp, "login_user = 1:1\nauth_user = 2:2\n"
                            "lmtp_listen = 127.0.0.1:%d\n"
                            "lmtp_require_tls = yes\n" % free_port())
    check(r.returncode != 0, "lmtp_require_tls without ssl_cert accepted")
    check("%s:4: lmtp_require_tls needs ssl_cert" % path in r.stderr,
          r.stderr)


def test_without_certificate_no_starttls(s):
    v = Server("lmtpnotls")
    try:
        v.lmtp_port = free_port()
        del v.settings["ssl_cert"], v.settings["ssl_key"]
        del v.settings["imaps_listen"]
        v.settings["lmtp_listen"] = "127.0.0.1:%d" % v.lmtp_port
        v.write_config()
        v.start()
        c = lmtp(v)
        code, text = c.ehlo("x")
        check(code == 250 and b"STARTTLS" not in text, text)
        code, _ = c.docmd("STARTTLS")
        check(code == 454, "STARTTLS without a certificate: %d" % code)
        c.quit()
    finally:
        v.cleanup()
