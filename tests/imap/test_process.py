# SPDX-License-Identifier: GPL-2.0-or-later
"""Process model: roles, uids, chroot, one worker per user, supervision,
reload, shutdown, memory exclusion, event-loop and spawn variants."""

import os
import signal
import time

from dboxd_test import (AUTH_UID, LOGIN_UID, Server, check, descendants,
                        message, procs, secret_region_flags, wait_for)


def setup():
    s = Server("process", worker_linger="1s")
    s.add_user("alice")
    s.add_user("bob")
    return s.start()


def teardown(s):
    s.cleanup()


def roles(s):
    return descendants(s.master_pid())


def test_roles_run_as_their_own_uids(s):
    kids = roles(s)
    uids = sorted(uid for _, uid in kids)
    check(LOGIN_UID in uids, "no login process as login_user: %r" % kids)
    check(AUTH_UID in uids, "no auth process as auth_user: %r" % kids)
    # the master and the worker template stay root
    check(uids.count(0) == 1, "expected one root child (template): %r" % kids)
    with open("/proc/%d/status" % s.master_pid()) as f:
        check("Uid:\t0\t0\t0" in f.read(), "master is not root")


def test_login_and_auth_are_chrooted(s):
    empty = os.path.join(s.settings["base_dir"], "empty")
    for pid, uid in roles(s):
        if uid in (LOGIN_UID, AUTH_UID):
            root = os.readlink("/proc/%d/root" % pid)
            check(root == empty, "pid %d root is %s" % (pid, root))


def test_no_new_privs_in_dropped_roles(s):
    for pid, uid in roles(s):
        if uid in (LOGIN_UID, AUTH_UID):
            with open("/proc/%d/status" % pid) as f:
                check("NoNewPrivs:\t1" in f.read(), "pid %d" % pid)


def test_prelogin_roles_run_under_seccomp(s):
    for pid, uid in roles(s):
        if uid in (LOGIN_UID, AUTH_UID):
            with open("/proc/%d/status" % pid) as f:
                check("Seccomp:\t2" in f.read(),
                      "pid %d (uid %d) has no seccomp filter" % (pid, uid))


def test_one_worker_serves_all_connections_of_a_user(s):
    uid = s.users["alice"][0]
    conns = [s.login("alice") for _ in range(4)]
    for m in conns:
        m.select("INBOX")
    workers = [p for p, u in roles(s) if u == uid]
    check(len(workers) == 1, "alice has %d workers: %r" % (len(workers),
                                                           workers))
    # bob gets his own, running as bob
    b = s.login("bob")
    b.select("INBOX")
    bob_uid = s.users["bob"][0]
    check(len([p for p, u in roles(s) if u == bob_uid]) == 1)
    for m in conns + [b]:
        m.logout()


def test_worker_exits_after_linger(s):
    uid = s.users["alice"][0]
    m = s.login("alice")
    m.logout()
    gone = wait_for(lambda: not [p for p, u in roles(s) if u == uid], 8)
    check(gone, "alice's worker still there after worker_linger")


def test_worker_is_reused_within_linger(s):
    uid = s.users["alice"][0]
    m = s.login("alice")
    first = [p for p, u in roles(s) if u == uid]
    m.logout()
    m = s.login("alice")
    second = [p for p, u in roles(s) if u == uid]
    m.logout()
    check(first == second and len(first) == 1, "%r vs %r" % (first, second))


def test_worker_uses_io_uring_and_logs_it(s):
    m = s.login("alice")
    m.logout()
    log = s.log_text()
    check("loop io_uring" in log, "no io_uring worker in the log")
    # storage_io = auto must not quietly end up on the sync backend: the
    # storage shares the loop's (restricted) ring
    check("storage I/O io_uring (the worker loop's ring)" in log,
          "storage is not on the worker loop's ring")


def test_worker_merge_mode_is_logged(s):
    log = s.log_text()
    check("ksm: " in log, "the master did not log its KSM path")
    check("ksm prctl" in log or "ksm group" in log or "ksm off" in log,
          "worker ready line without ksm mode")


def test_prctl_merge_is_set_in_worker(s):
    if "workers use prctl" not in s.log_text():
        return "SKIP kernel without PR_SET_MEMORY_MERGE or module loaded"
    uid = s.users["alice"][0]
    m = s.login("alice")
    pid = [p for p, u in roles(s) if u == uid][0]
    try:
        with open("/proc/%d/ksm_stat" % pid) as f:
            stat = f.read()
    except FileNotFoundError:
        m.logout()
        return "SKIP no /proc/PID/ksm_stat"
    m.logout()
    check("ksm_merge_any: yes" in stat, "worker not merge-any: %r" % stat)


def test_secret_memory_is_excluded_from_merging(s):
    uid = s.users["alice"][0]
    m = s.login("alice")
    m.append("INBOX", None, None, message(body="x" * 5000))
    m.select("INBOX")
    m.fetch("1", "(BODY.PEEK[])")
    pid = [p for p, u in roles(s) if u == uid][0]
    flags = secret_region_flags(pid)
    m.logout()
    check(flags is not None, "no secret region in worker smaps")
    check("dd" in flags, "secret region not MADV_DONTDUMP: %r" % flags)
    check("mg" not in flags, "secret region is mergeable: %r" % flags)


def test_killed_login_is_restarted(s):
    logins = [p for p, u in roles(s) if u == LOGIN_UID]
    check(len(logins) == 1)
    os.kill(logins[0], signal.SIGKILL)
    new = wait_for(lambda: [p for p, u in roles(s) if u == LOGIN_UID and
                            p != logins[0]], 10)
    check(new, "login not restarted")
    m = wait_for(lambda: _try_login(s), 10)
    check(m, "cannot log in after login restart")
    m.logout()


def _try_login(s):
    try:
        return s.login("alice")
    except Exception:
        return None


def test_killed_auth_is_restarted(s):
    auths = [p for p, u in roles(s) if u == AUTH_UID]
    os.kill(auths[0], signal.SIGKILL)
    check(wait_for(lambda: [p for p, u in roles(s) if u == AUTH_UID and
                            p != auths[0]], 10), "auth not restarted")
    m = wait_for(lambda: _try_login(s), 10)
    check(m, "cannot log in after auth restart")
    m.logout()


def test_killed_worker_only_drops_that_user(s):
    a = s.login("alice")
    b = s.login("bob")
    a.select("INBOX")
    b.select("INBOX")
    uid = s.users["alice"][0]
    pid = [p for p, u in roles(s) if u == uid][0]
    os.kill(pid, signal.SIGKILL)
    try:
        a.noop()
        dead = False
    except Exception:
        dead = True
    check(dead, "alice's connection survived her worker")
    check(b.noop()[0] == "OK", "bob affected by alice's worker")
    b.logout()
    a2 = s.login("alice")
    check(a2.select("INBOX")[0] == "OK")
    a2.logout()


def test_connection_sent_to_a_dying_worker_goes_to_a_new_one(s):
    """The master hands a login to the user's worker; the worker dies
    before it took the connection (stopped, then killed, so that the
    CLIENT message is certainly waiting unread in its socket). The login
    must still succeed, served by a new worker; the connection the dead
    worker had taken dies with it."""
    a = s.login("alice")
    a.select("INBOX")
    uid = s.users["alice"][0]
    old = [p for p, u in roles(s) if u == uid]
    check(len(old) == 1, "alice's workers: %r" % old)
    os.kill(old[0], signal.SIGSTOP)
    try:
        handed = s.log_text().count("user alice logged in")
        r = s.raw()
        r.send("L1 LOGIN alice secret\r\n")
        check(wait_for(lambda: s.log_text().count("user alice logged in")
                       > handed, 10), "the master never handed the login")
        # the CLIENT message is sent right after that log line
        time.sleep(0.2)
    finally:
        os.kill(old[0], signal.SIGKILL)
    _, res = r.until("L1")
    check(b" OK " in res, "login to a dying worker: %r" % res)
    _, res = r.cmd("S1", "SELECT INBOX")
    check(b" OK " in res, "SELECT after the worker died: %r" % res)
    new = [p for p, u in roles(s) if u == uid]
    check(new and old[0] not in new, "still the old worker: %r" % new)
    check("handing it to a new worker" in s.log_text(), s.log_tail())
    r.close()
    try:
        a.noop()
        dead = False
    except Exception:
        dead = True
    check(dead, "the dead worker's connection survived it")


def test_reload_applies_new_settings(s):
    old = s.raw()
    check(b"dboxd ready." in old.greeting, old.greeting)
    s.settings["imap_greeting"] = "reloaded hello"
    s.write_config()
    s.reload()
    ok = wait_for(lambda: b"reloaded hello" in s.raw().greeting, 10)
    check(ok, "new greeting not seen after SIGHUP")
    # a connection made before the reload still works
    _, res = old.cmd("a", "NOOP")
    check(b"a OK" in res, res)
    old.close()


def test_reload_with_bad_config_keeps_running(s):
    s.write_config(extra="no_such_setting = 1\n")
    s.reload()
    check(wait_for(lambda: "reload failed" in s.log_text(), 5),
          "no reload error logged")
    check("dboxd.conf:" in s.log_text().split("reload failed")[-1]
          .splitlines()[0], "reload error does not name the file")
    m = s.login("alice")
    m.logout()
    s.write_config()


def test_sigterm_stops_everything(s):
    m = s.login("alice")
    m.select("INBOX")
    master = s.master_pid()
    pidfile = os.path.join(s.settings["base_dir"], "dboxd.pid")
    check(os.path.exists(pidfile))
    rc = s.stop()
    check(rc == 0, "master exit status %r" % rc)
    check(not [p for p, u, c, pp in procs() if p == master or pp == master],
          "processes left")
    left = [p for p, u, c, pp in procs() if u in
            (LOGIN_UID, AUTH_UID, s.users["alice"][0])]
    check(not left, "role processes left: %r" % left)
    check(not os.path.exists(pidfile), "pid file left")
    s.start()


def test_second_master_refuses_to_start(s):
    import subprocess
    from dboxd_test import DBOXD
    r = subprocess.run([DBOXD, "-c", s.conf], capture_output=True,
                       timeout=10)
    check(r.returncode != 0, "second master started")
    check(b"another dboxd is running" in r.stderr, r.stderr)


def test_no_process_takes_transparent_huge_pages(s):
    # PR_SET_THP_DISABLE in the master, inherited by every role: under
    # THP "always" sparse allocations would pin 2 MiB each
    m = s.login("alice")
    m.select("INBOX")
    for pid in [s.master_pid()] + [p for p, _ in roles(s)]:
        with open("/proc/%d/status" % pid) as f:
            check("THP_enabled:\t0" in f.read(),
                  "pid %d may take transparent huge pages" % pid)
    m.logout()


def test_exec_spawn_and_epoll_loop():
    pass


def _variant(name, **settings):
    v = Server(name, **settings)
    v.add_user("carol")
    v.start()
    try:
        m = v.login("carol")
        m.append("INBOX", None, None, message())
        m.select("INBOX")
        typ, data = m.fetch("1", "(BODY[])")
        check(typ == "OK" and b"hello" in data[0][1], data)
        m.logout()
        return v.log_text()
    finally:
        v.cleanup()


def test_workers_spawned_by_exec(s):
    log = _variant("exec", worker_spawn="exec")
    check("workers from exec" in log, "not in exec mode")
    check("worker carol ready" in log)


def test_epoll_fallback_loop(s):
    log = _variant("epoll", worker_io="epoll", storage_io="sync")
    check("loop epoll" in log, "worker did not use epoll")
    check("storage I/O sync" in log, "storage did not use sync I/O")


del test_exec_spawn_and_epoll_loop


def test_config_check_names_file_and_line(s):
    import subprocess
    from dboxd_test import DBOXD
    bad = os.path.join(s.tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("# first\nlogin_user = 1:1\nauth_user = 2:2\n"
                "imap_max_literal_size = huge\n")
    r = subprocess.run([DBOXD, "-n", "-c", bad], capture_output=True,
                       timeout=10)
    check(r.returncode != 0, "bad config accepted")
    check(("%s:4:" % bad).encode() in r.stderr, r.stderr)
    r = subprocess.run([DBOXD, "-n", "-c", s.conf], capture_output=True,
                       timeout=10)
    check(r.returncode == 0, r.stderr)
    check(b"imap_listen = 127.0.0.1:" in r.stdout, r.stdout)


def test_sample_config_is_valid(s):
    import subprocess
    from dboxd_test import DBOXD, TOP
    with open(os.path.join(TOP, "etc/dboxd/dboxd.conf")) as f:
        text = f.read()
    # the sample's users and certificate exist only on a real server
    text = text.replace("login_user = dboxd-login", "login_user = 1:1")
    text = text.replace("auth_user = dboxd-auth", "auth_user = 2:2")
    text = text.replace("/etc/dboxd/tls/fullchain.pem", s.cert)
    text = text.replace("/etc/dboxd/tls/privkey.pem", s.key)
    conf = os.path.join(s.tmp, "sample.conf")
    with open(conf, "w") as f:
        f.write(text)
    r = subprocess.run([DBOXD, "-n", "-c", conf], capture_output=True,
                       timeout=10)
    check(r.returncode == 0, r.stderr)


def test_every_setting_is_documented(s):
    import re
    import subprocess
    from dboxd_test import DBOXD, TOP
    r = subprocess.run([DBOXD, "-a", "-c", s.conf], capture_output=True,
                       timeout=10)
    check(r.returncode == 0, r.stderr)
    names = re.findall(rb"^(\w+) = ", r.stdout, re.M)
    check(len(names) > 30, names)
    with open(os.path.join(TOP, "docs/dboxd.md"), "rb") as f:
        doc = f.read()
    missing = [n for n in names if b"| `" + n + b"`" not in doc]
    check(not missing, "not in docs/dboxd.md: %r" % missing)
