# SPDX-License-Identifier: GPL-2.0-or-later
"""Test harness for dboxd: starts a real dboxd (as root, on high loopback
ports, with a temporary config, mail root and TLS certificate), adds users,
and always stops it. Used by the test_*.py modules through run.py."""

import base64
import crypt
import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DBOXD = os.environ.get("DBOXD", os.path.join(TOP, "build/user/dboxd/dboxd"))
LOGIN_UID = 60990
AUTH_UID = 60991
USER_UID_BASE = 61000


class TestFailure(Exception):
    pass


def check(cond, msg="check failed"):
    if not cond:
        raise TestFailure(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def make_cert(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return cert, key


class Server:
    """One dboxd instance. settings override the test defaults."""

    def __init__(self, name, **settings):
        self.tmp = tempfile.mkdtemp(prefix="dboxd-test-%s-" % name)
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home)
        os.chmod(self.home, 0o755)
        self.port = free_port()
        self.tls_port = free_port()
        self.cert, self.key = make_cert(self.tmp)
        self.passwd = os.path.join(self.tmp, "passwd")
        open(self.passwd, "w").close()
        self.conf = os.path.join(self.tmp, "dboxd.conf")
        self.log = os.path.join(self.tmp, "dboxd.log")
        self.users = {}
        self.next_uid = USER_UID_BASE
        self.proc = None
        self.settings = {
            "base_dir": os.path.join(self.tmp, "run"),
            "imap_listen": "127.0.0.1:%d" % self.port,
            "imaps_listen": "127.0.0.1:%d" % self.tls_port,
            "ssl_cert": self.cert,
            "ssl_key": self.key,
            "passwd_file": self.passwd,
            "login_user": "%d:%d" % (LOGIN_UID, LOGIN_UID),
            "auth_user": "%d:%d" % (AUTH_UID, AUTH_UID),
            "first_valid_uid": "1000",
            "log_level": "debug",
            "auth_failure_delay": "20ms",
            "auth_failure_delay_max": "100ms",
            "worker_linger": "2s",
        }
        self.settings.update(settings)
        self.write_config()

    def write_config(self, extra=""):
        with open(self.conf, "w") as f:
            f.write("# dboxd test config\n")
            for k, v in self.settings.items():
                f.write('%s = "%s"\n' % (k, v))
            f.write(extra)

    # ---- users -----------------------------------------------------------
    def add_user(self, name, password="secret", scheme="PLAIN", uid=None,
                 extra=""):
        if uid is None:
            uid = self.next_uid
            self.next_uid += 1
        home = os.path.join(self.home, name)
        if not os.path.exists(home):
            os.mkdir(home, 0o700)
            os.chown(home, uid, uid)
        if scheme == "PLAIN":
            field = "{PLAIN}" + password
        elif scheme == "SHA512-CRYPT":
            field = "{SHA512-CRYPT}" + crypt.crypt(
                password, crypt.mksalt(crypt.METHOD_SHA512))
        elif scheme == "SHA256-CRYPT":
            field = "{SHA256-CRYPT}" + crypt.crypt(
                password, crypt.mksalt(crypt.METHOD_SHA256))
        elif scheme == "BLF-CRYPT":
            field = "{BLF-CRYPT}" + crypt.crypt(
                password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
        else:
            field = scheme + password
        self.users[name] = (uid, home)
        with open(self.passwd, "a") as f:
            f.write("%s:%s:%d:%d::%s::%s\n" % (name, field, uid, uid, home,
                                                extra))
        return uid

    # ---- life ------------------------------------------------------------
    def start(self, wait=True):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([DBOXD, "-c", self.conf],
                                     stdout=self.logf, stderr=self.logf)
        if wait:
            self.wait_listening()
        return self

    def wait_listening(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise TestFailure("dboxd exited with %d: %s" %
                                  (self.proc.returncode, self.log_tail()))
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 1)
                s.settimeout(5)
                greeting = s.recv(1024)
                s.close()
                if greeting.startswith(b"* OK"):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TestFailure("dboxd did not start listening")

    def master_pid(self):
        return self.proc.pid

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.logf.close()
        return rc

    def cleanup(self):
        self.stop()
        if os.environ.get("DBOXD_TEST_KEEP"):
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=15):
        return "\n".join(self.log_text().splitlines()[-n:])

    def reload(self):
        os.kill(self.proc.pid, signal.SIGHUP)

    # ---- clients ---------------------------------------------------------
    def connect(self, tls=False):
        if tls:
            return imaplib.IMAP4_SSL("127.0.0.1", self.tls_port,
                                     ssl_context=tls_context(), timeout=20)
        return imaplib.IMAP4("127.0.0.1", self.port, timeout=20)

    def login(self, user, password="secret", tls=False):
        m = self.connect(tls)
        m.login(user, password)
        return m

    def raw(self, tls=False, greeting=True):
        return RawClient(self, tls, greeting)


class RawClient:
    """A line-level IMAP client for what imaplib cannot do."""

    def __init__(self, server, tls=False, greeting=True):
        self.sock = socket.create_connection(
            ("127.0.0.1", server.tls_port if tls else server.port), 20)
        if tls:
            self.sock = tls_context().wrap_socket(self.sock)
        self.buf = b""
        self.greeting = self.line() if greeting else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self, timeout=20):
        self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; got %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n, timeout=20):
        self.sock.settimeout(timeout)
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, tag, text):
        """Send a command, return (untagged lines, tagged line)."""
        if isinstance(text, bytes):
            self.send(tag.encode() + b" " + text + b"\r\n")
        else:
            self.send("%s %s\r\n" % (tag, text))
        return self.until(tag)

    def until(self, tag):
        lines = []
        tagb = tag.encode() + b" "
        while True:
            line = self.line()
            if line.startswith(tagb):
                return lines, line
            lines.append(line)

    def login(self, user, password="secret"):
        _, res = self.cmd("L1", "LOGIN %s %s" % (user, password))
        if b" OK " not in res:
            raise TestFailure("login failed: %r" % res)

    def closed(self, timeout=5):
        """True if the server closed the connection (after any data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, ssl.SSLError):
            return False
        except ConnectionResetError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def inbox(s, user):
    """Every message of user's INBOX on server s, whole, in UID order."""
    m = s.login(user)
    n = int(m.select("INBOX")[1][0])
    data = m.fetch("1:*", "(BODY.PEEK[])")[1] if n else []
    m.logout()
    return [d[1] for d in data if isinstance(d, tuple)]


def procs():
    """[(pid, uid, cmdline, ppid)] of dboxd processes."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                status = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"dboxd" not in cmd.split(b"\0")[0]:
            continue
        uid = ppid = None
        for line in status.splitlines():
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
            if line.startswith("PPid:"):
                ppid = int(line.split()[1])
            if line.startswith("State:") and "Z" in line.split()[1]:
                uid = None
                break
        if uid is not None:
            out.append((int(d), uid, cmd, ppid))
    return out


def descendants(root):
    """dboxd processes below root (pid)."""
    ps = procs()
    result, frontier = [], {root}
    while frontier:
        nxt = set()
        for pid, uid, cmd, ppid in ps:
            if ppid in frontier:
                result.append((pid, uid))
                nxt.add(pid)
        frontier = nxt
    return result


def smaps_vmas(pid):
    """Yield the mappings of pid from /proc/PID/smaps, each a dict: lo, hi,
    perms, path ("" for anonymous memory), kb (the "Name: N kB" fields by
    name) and flags (VmFlags)."""
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                vma = {"lo": lo, "hi": hi, "perms": parts[1],
                       "path": " ".join(parts[5:]), "kb": {}}
            elif parts[0] == "VmFlags:":
                vma["flags"] = parts[1:]
                yield vma
            elif len(parts) == 3 and parts[2] == "kB":
                vma["kb"][parts[0][:-1]] = int(parts[1])


def secret_region_flags(pid):
    """The VmFlags of pid's secret region (dboxd's anonymous 256 MiB
    mapping), or None."""
    for vma in smaps_vmas(pid):
        if vma["path"] == "" and vma["hi"] - vma["lo"] == 256 << 20:
            return vma["flags"]
    return None


def expect(status, func, *args):
    """Run an imaplib call that must answer status (NO or BAD); imaplib
    raises on BAD. Returns the response text."""
    try:
        typ, data = func(*args)
    except Exception as e:  # imaplib.IMAP4.error on BAD
        text = str(e)
        check(status in text, "expected %s, got %s" % (status, text))
        return text
    check(typ == status, "expected %s, got %s %r" % (status, typ, data))
    return repr(data)


def wait_for(cond, timeout=10, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def message(subject="test", body="hello", frm="a@example.com",
            to="b@example.org", extra=""):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n"
            "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n%s\r\n%s\r\n" %
            (frm, to, subject, extra, body)).encode()
