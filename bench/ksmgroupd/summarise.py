#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Summarise DIR/SERIES/MODE/rN/samples-*.csv (written by sample.py, t=0 when
# the client's logins were all done) and memory-*.txt (the server's memory
# at the end, still holding its connections): per run the final saving,
# time to 90 % of it, ksmd CPU-seconds from t=0 to the end, PSS + page
# tables per connection; per series and mode the median [min-max] over
# runs; the ratios of ksmgroupd's medians to each peer of the same server
# (modes "dboxd-..." are dboxd's, the others Dovecot's).
# usage: summarise.py DIR
import csv, glob, os, statistics, sys

PAGE_MIB = 4096 / 2**20

def at(rows, t, key):
    """key interpolated linearly at time t."""
    for a, b in zip(rows, rows[1:]):
        if a["t"] <= t <= b["t"]:
            f = (t - a["t"]) / (b["t"] - a["t"]) if b["t"] > a["t"] else 0
            return a[key] + f * (b[key] - a[key])
    return rows[0][key] if t < rows[0]["t"] else rows[-1][key]

def t90(rows, key):
    """First t after which key stays >= 90 % of its final value."""
    fin = rows[-1][key]
    t = rows[0]["t"]
    for r in rows:
        if r[key] < 0.9 * fin:
            t = None
        elif t is None:
            t = r["t"]
    return t

def memory(path):
    """PSS + page tables per connection (KiB) from memory-*.txt, or None."""
    found = glob.glob(os.path.join(os.path.dirname(path), "memory-*.txt"))
    if not found:
        return None
    kv = dict(f.split("=", 1) for f in open(found[0]).read().split())
    n = int(kv["n"])
    return (int(kv["pss_kb"]) + int(kv["pte_kb"])) / n if n else None

def one(path):
    raw = list(csv.DictReader(open(path)))
    if not raw or any(r["t"].startswith("~") for r in raw):
        return None                      # still running, or logins never done
    rows = [{k: float(v) for k, v in r.items()} for r in raw]
    last = rows[-1]
    tail = [r for r in rows if r["t"] >= last["t"] - 100]
    t_ps = t90(rows, "pages_sharing")
    return dict(
        saved=last["pages_sharing"] * PAGE_MIB,
        imap_merged=last["imap_merging_pages"] * PAGE_MIB,
        procs=int(last["imap_procs"]),
        t90=max(0.0, t_ps),
        t90_imap=max(0.0, t90(rows, "imap_merging_pages")),
        t90_start=t_ps - rows[0]["t"],
        login_s=-rows[0]["t"],
        # How far merging kept up with the logins: the saving at t=0.
        at0_pct=100 * at(rows, 0.0, "pages_sharing") / max(1.0, last["pages_sharing"]),
        cpu=last["ksmd_cpu_s"] - at(rows, 0.0, "ksmd_cpu_s"),
        cpu_all=last["ksmd_cpu_s"] - rows[0]["ksmd_cpu_s"],
        window=last["t"],
        mem_conn=memory(path),
        # Did it converge? Growth of the saving over the last 100 s.
        tail_growth=(last["pages_sharing"] - tail[0]["pages_sharing"])
                    / max(1.0, last["pages_sharing"]))

def med(xs):
    return statistics.median(xs), min(xs), max(xs)

def fmt(xs, spec):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    m, lo, hi = med(xs)
    if len(xs) == 1:
        return spec % m
    return (spec + " [" + spec + "-" + spec + "]") % (m, lo, hi)

runs = {}
for p in sorted(glob.glob(os.path.join(sys.argv[1], "*", "*", "r*", "samples-*.csv"))):
    series, mode, rep = p.split(os.sep)[-4:-1]
    res = one(p)
    print("%-5s %-9s %-3s %s" % (series, mode, rep, "incomplete (still running, or logins never done)" if res is None else
          " ".join("%s=%.3g" % kv for kv in res.items() if kv[1] is not None)))
    if res:
        runs.setdefault(series, {}).setdefault(mode, []).append(res)

cols = [("saved", "saved MiB", "%.1f"), ("imap_merged", "imap merged MiB", "%.1f"),
        ("t90", "t90 s", "%.0f"), ("t90_start", "t90 from 1st login s", "%.0f"),
        ("at0_pct", "% of saving at t=0", "%.0f"), ("cpu", "ksmd CPU s", "%.1f"),
        ("cpu_all", "CPU s incl. logins", "%.1f"), ("login_s", "logins s", "%.0f"),
        ("mem_conn", "PSS+PT KiB/conn", "%.0f")]
print()
print("| kernel | mode | runs | " + " | ".join(c[1] for c in cols) + " |")
print("|---|---|---:|" + "---:|" * len(cols))
for series in sorted(runs):
    for mode, rs in sorted(runs[series].items()):
        print("| %s | %s | %d | " % (series, mode, len(rs)) +
              " | ".join(fmt([r[k] for r in rs], f) for k, _, f in cols) + " |")
print()
def server(mode):
    return "dboxd" if mode.startswith("dboxd-") else "dovecot"

def kind(mode):
    return mode[len("dboxd-"):] if server(mode) == "dboxd" else mode

# "ksmgroupd" and variants kept side by side ("ksmgroupd-old": an earlier
# governor) against every peer of the same server.
for series in sorted(runs):
    for amode, a in sorted(runs[series].items()):
        if not kind(amode).startswith("ksmgroupd"):
            continue
        for mode, b in sorted(runs[series].items()):
            if kind(mode).startswith("ksmgroupd") or server(mode) != server(amode):
                continue
            def ratio(k):
                xs = [r[k] for r in a if r[k] is not None]
                ys = [r[k] for r in b if r[k] is not None]
                if not xs or not ys:
                    return "n/a"
                x, y = med(xs)[0], med(ys)[0]
                return "%.2f" % (x / y) if y else "n/a (peer 0)"
            print("%s %s/%s (medians): saved x%s, imap merged x%s, t90 x%s, "
                  "t90 from 1st login x%s, ksmd CPU x%s, CPU incl. logins x%s, "
                  "PSS+PT per connection x%s" % (
                  series, amode, mode, ratio("saved"), ratio("imap_merged"),
                  ratio("t90"), ratio("t90_start"), ratio("cpu"), ratio("cpu_all"),
                  ratio("mem_conn")))
