#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs in a QEMU guest with the ksmgroup module loaded (guest-ksm.sh):
workers of several users join dboxd's merge group and their pages merge;
the same workload with worker_spawn = template and = exec, measured.
Prints unnumbered TAP lines ("ok - ...") and "#" measurement lines."""

import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dboxd_test import (Server, descendants, message,  # noqa: E402
                        secret_region_flags, smaps_vmas)

USERS = 8
SETTLE = int(os.environ.get("KSM_SETTLE", "30"))


def tap(ok, text):
    print("%s - %s" % ("ok" if ok else "not ok", text))
    sys.stdout.flush()


def group_dir():
    for d in glob.glob("/sys/kernel/ksmgroup/*/"):
        try:
            with open(d + "name") as f:
                if f.read().strip() == "dboxd":
                    return d
        except OSError:
            pass
    return None


def read(d, name):
    try:
        with open(d + name) as f:
            return f.read().strip()
    except OSError:
        return None


def proc_ksm(pid):
    out = {}
    try:
        with open("/proc/%d/ksm_stat" % pid) as f:
            for line in f:
                k, _, v = line.partition(" ")
                out[k] = v.strip()
    except OSError:
        pass
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    out["rss_anon_kb"] = line.split()[1]
    except OSError:
        pass
    return out


def file_copies_marked(pid):
    """Read-only private file mappings holding copied pages (RELRO) that
    are mergeable in pid, as the group's file_private policy asks."""
    try:
        return sum(1 for v in smaps_vmas(pid)
                   if v["path"].startswith("/") and v["perms"] == "r--p" and
                   v["kb"].get("Anonymous", 0) > 0 and "mg" in v["flags"])
    except OSError:
        return 0


def thp_kb(pids):
    """Anonymous memory in transparent huge pages, summed over pids."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("AnonHugePages:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read().split("[")[1].split("]")[0]
    except (OSError, IndexError):
        return "none"


def workload(spawn):
    s = Server("guest-" + spawn, ksm="group", worker_spawn=spawn,
               worker_linger="10min", max_address_connections="500",
               log_level="info")
    for i in range(USERS):
        s.add_user("u%d" % i)
    s.start()
    conns = []
    try:
        for i in range(USERS):
            for _ in range(2):
                m = s.login("u%d" % i)
                m.append("INBOX", None, None,
                         message(subject="s%d" % i, body="b" * 20000))
                m.select("INBOX")
                m.fetch("1:*", "(BODY.PEEK[] BODYSTRUCTURE)")
                m.search(None, "BODY", "bbbb")
                conns.append(m)
        uids = {s.users["u%d" % i][0] for i in range(USERS)}
        workers = sorted(p for p, u in descendants(s.master_pid())
                         if u in uids)
        d = group_dir()
        return s, conns, workers, d
    except Exception:
        for m in conns:
            m.logout()
        s.cleanup()
        raise


def measure(label, workers, d):
    """Best merging_pages of the group over SETTLE s, its figures at the
    end, and whether it reported "converged" at some point."""
    start = time.time()
    best = 0
    converged = False
    while time.time() - start < SETTLE:
        v = int(read(d, "merging_pages") or 0)
        best = max(best, v)
        converged = converged or read(d, "state") == "converged"
        time.sleep(2)
    stats = {k: read(d, k) for k in ("members", "merging_pages",
                                     "anon_pages", "profit", "rmap_items")}
    per = [proc_ksm(p) for p in workers]
    print("# %s: group %s" % (label, " ".join("%s=%s" % kv for kv in
                                                stats.items())))
    print("# %s: per worker ksm_merging_pages %s, RssAnon kB %s" % (
        label, [p.get("ksm_merging_pages") for p in per],
        [p.get("rss_anon_kb") for p in per]))
    return best, stats, converged


def main():
    ok_module = os.path.exists("/dev/ksmgroup")
    tap(ok_module, "ksmgroup module loaded (/dev/ksmgroup)")
    if not ok_module:
        return
    s, conns, workers, d = workload("template")
    try:
        tap(d is not None, "template: the master created merge group 'dboxd'")
        log = s.log_text()
        tap("workers join merge group 'dboxd'" in log,
            "template: the master logs the merge-group path")
        tap(len(workers) == USERS, "template: one worker per user (%d)" %
            len(workers))
        pids = set(int(x) for x in (read(d, "pids") or "").split()) if d \
            else set()
        tap(d is not None and set(workers) <= pids,
            "template: every worker is a group member (%r in %r)" %
            (workers, sorted(pids)))
        relro = file_copies_marked(workers[0]) if workers else 0
        tap(d is not None and read(d, "policy") == "anon file_private" and
            relro > 0, "template: the group takes the workers' library "
            "copies too (policy %r, %d RELRO mappings mergeable)" %
            (read(d, "policy") if d else None, relro))
        best, stats, converged = measure("template", workers, d)
        tap(best > 0, "template: workers' pages merge (%d pages)" % best)
        # Most of a worker's memory is kept out of merging (secrets,
        # library data): the module must still see ksmd done with it.
        tap(converged, "template: the group converges (state %s)" %
            read(d, "state"))
        # Debian's kernels default to THP "always"; dboxd's sparse
        # regions (secret arena, IPC buffers) must not take huge pages.
        thp = thp_kb([s.master_pid()] +
                     [p for p, _ in descendants(s.master_pid())])
        tap(thp == 0, "template: no transparent huge pages in dboxd's "
            "processes (%d kB, THP %s)" % (thp, thp_mode()))
        flags = secret_region_flags(workers[0])
        tap(flags is not None and "dd" in flags and "mg" not in flags,
            "template: secret region not mergeable in the group: %r" %
            flags)
    finally:
        for m in conns:
            try:
                m.logout()
            except Exception:
                pass
        s.cleanup()
    time.sleep(2)
    s, conns, workers, d = workload("exec")
    try:
        pids = set(int(x) for x in (read(d, "pids") or "").split()) if d \
            else set()
        tap(d is not None and len(workers) == USERS and
            set(workers) <= pids, "exec: every worker is a group member")
        best_exec, stats, _ = measure("exec", workers, d)
        tap(best_exec > 0, "exec: workers' pages merge (%d pages)" %
            best_exec)
        print("# merging pages, best seen in %d s: template %d, exec %d" %
              (SETTLE, best, best_exec))
    finally:
        for m in conns:
            try:
                m.logout()
            except Exception:
                pass
        s.cleanup()


if __name__ == "__main__":
    main()
