# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise an IMAP benchmark run (bench/imap/run.sh).

    python3 bench/imap/summarise.py OUTDIR

Reads OUTDIR/{env,idle,load,ksm-series}.txt (one key=value line per run),
writes OUTDIR/summary.txt (medians with min and max of every figure),
gnuplot data and plots (OUTDIR/*.png; ASCII versions for the report) and
OUTDIR/report.md, which run.sh copies to docs/benchmarks.md. Every number
in the report comes from those files; nothing is typed in by hand.
"""

import os
import statistics
import subprocess
import sys
from collections import OrderedDict, defaultdict


def read_kv(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            row = OrderedDict()
            for item in line.split():
                if "=" in item:
                    k, v = item.split("=", 1)
                    row[k] = v
            if row:
                rows.append(row)
    return rows


def num(row, key):
    try:
        return float(row[key])
    except (KeyError, ValueError):
        return None


class Stat:
    """Median with spread of the runs of one measurement."""

    def __init__(self, values):
        self.v = sorted(x for x in values if x is not None)

    def ok(self):
        return bool(self.v)

    def med(self):
        return statistics.median(self.v) if self.v else float("nan")

    def fmt(self, digits=0, scale=1.0):
        if not self.v:
            return "n/a"
        m = self.med() * scale
        lo, hi = self.v[0] * scale, self.v[-1] * scale
        f = "%%.%df" % digits
        if len(self.v) == 1:
            return f % m
        return (f + " (" + f + "–" + f + ")") % (m, lo, hi)


def group(rows, keys):
    g = OrderedDict()
    for r in rows:
        g.setdefault(tuple(r.get(k, "") for k in keys), []).append(r)
    return g


# ---------------------------------------------------------------- idle ----

def idle_figures(r):
    """Derived per-run figures of one idle row."""
    n = num(r, "n")
    f = {}
    pss, base = num(r, "pss_kb"), num(r, "base_pss_kb")
    pte, bpte = num(r, "pte_kb"), num(r, "base_pte_kb")
    if n and pss is not None and base is not None:
        f["pss_conn"] = (pss - base) / n
        f["pss_total_conn"] = pss / n
    if n and pte is not None and bpte is not None:
        f["pte_conn"] = (pte - bpte) / n
    f["procs"] = num(r, "procs")
    f["pss_mib"] = pss / 1024 if pss is not None else None
    anon = num(r, "pss_anon_kb")
    frames, dup = num(r, "dup_frames"), num(r, "dup_dup")
    ps = num(r, "dup_page_size") or 4096
    if frames:
        f["dup_frac"] = dup / frames
        f["anon_frames_mib"] = frames * ps / 1048576
    post = num(r, "post_pss_kb")
    if post is not None and n:
        f["post_pss_conn"] = (post + num(r, "post_pte_kb") - num(r, "base_pss_kb")
                              - num(r, "base_pte_kb")) / n
        f["post_pss_only_conn"] = (post - base) / n
        f["pre_conn_with_pte"] = (pss + pte - base - bpte) / n
        f["ksm_saved_pct"] = 100.0 * (pss - post) / pss
        if anon:
            f["anon_merged_pct"] = 100.0 * (anon - num(r, "post_pss_anon_kb")) / anon
        pframes = num(r, "post_dup_frames")
        if pframes is None:     # run.sh before the post_dup_ prefix
            pframes = num(r, "post_frames")
        if frames and dup and pframes is not None:
            f["dup_merged_pct"] = 100.0 * (frames - pframes) / dup
            f["saved_mib"] = (frames - pframes) * ps / 1048576
        f["t90"] = num(r, "ksm_t90_s")
        f["settle"] = num(r, "ksm_settle_s")
        cpu = num(r, "ksmd_cpu_s")
        if cpu is not None and f.get("saved_mib"):
            f["ksmd_s_per_mib"] = cpu / f["saved_mib"]
        f["ksmd_share"] = num(r, "ksmd_idle_share")
    f["errors"] = num(r, "lg_errors")
    f["dead"] = num(r, "dead")
    return f


def idle_stats(rows):
    out = OrderedDict()
    for key, runs in group(rows, ["peer", "variant", "n"]).items():
        figs = [idle_figures(r) for r in runs]
        names = set().union(*[f.keys() for f in figs])
        out[key] = {k: Stat(f.get(k) for f in figs) for k in names}
        out[key]["runs"] = len(runs)
    return out


# ---------------------------------------------------------------- load ----

LAT_CMDS = ["fetch", "store", "expunge", "append", "search", "noop", "login",
            "select", "logout"]


def load_stats(rows):
    out = OrderedDict()
    for key, runs in group(rows, ["peer", "variant", "clients"]).items():
        s = {"runs": len(runs)}
        for k in ["cps", "errors", "races", "server_cpu_s", "server_util",
                  "loadgen_cpu_s", "other_cpu_s", "host_busy_s", "loadavg",
                  "commands", "secs"]:
            s[k] = Stat(num(r, k) for r in runs)
        s["cpu_ms_per_cmd"] = Stat(
            1000.0 * num(r, "server_cpu_s") / num(r, "commands")
            for r in runs if num(r, "server_cpu_s") is not None and num(r, "commands"))
        for c in LAT_CMDS:
            for p in ["p50_ms", "p99_ms"]:
                s[c + "_" + p] = Stat(num(r, c + "_" + p) for r in runs)
        out[key] = s
    return out


# ---------------------------------------------------------------- cold ----

def cold_stats(rows):
    out = OrderedDict()
    for key, runs in group(rows, ["peer", "io"]).items():
        out[key] = {"runs": len(runs),
                    "secs": Stat(num(r, "secs") for r in runs),
                    "mib_s": Stat(num(r, "mib_s") for r in runs),
                    "messages": Stat(num(r, "messages") for r in runs),
                    "mib": Stat((num(r, "bytes") or 0) / 1048576 for r in runs
                                if num(r, "bytes") is not None)}
    return out


# --------------------------------------------------------------- plots ----

def gnuplot(script, outdir):
    try:
        subprocess.run(["gnuplot"], input=script.encode(), cwd=outdir,
                       check=True, capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        sys.stderr.write("summarise: gnuplot failed: %s\n" % getattr(e, "stderr", e))
        return False


def plot_pair(outdir, name, body, title, w=900, h=500):
    """The same plot as PNG and as ASCII art (for the markdown report)."""
    png = ('set terminal pngcairo size %d,%d font "DejaVu Sans,10" noenhanced\n'
           'set output "%s.png"\nset title "%s"\n%s' % (w, h, name, title, body))
    txt = ('set terminal dumb size 100,28\nset output "%s.txt"\n'
           'set title "%s"\n%s' % (name, title, body))
    ok = gnuplot(png, outdir) and gnuplot(txt, outdir)
    if not ok:
        return None
    with open(os.path.join(outdir, name + ".txt")) as f:
        return f.read().rstrip()


def plots(outdir, idle, load, series, cold):
    ascii_plots = OrderedDict()
    if cold:
        fn = "cold.dat"
        with open(os.path.join(outdir, fn), "w") as f:
            for i, ((peer, io), s) in enumerate(cold.items()):
                f.write('%d "%s %s" %.3f %.3f %.3f\n' % (
                    i, peer, io, s["secs"].med(), s["secs"].v[0], s["secs"].v[-1]))
        ascii_plots["cold"] = plot_pair(
            outdir, "cold-fetch",
            'set ylabel "seconds (median, bars: min-max)"\nset yrange [0:*]\n'
            'set style fill solid 0.5\nset boxwidth 0.6\nset xrange [-0.6:%d.6]\n'
            'unset key\nplot "%s" using 1:3:xtic(2) with boxes, '
            '"" using 1:3:4:5 with yerrorbars lc rgb "black" pt 0\n' % (len(cold) - 1, fn),
            "Cold FETCH of every message of one mailbox after drop_caches", 700, 400)
    # memory per idle connection: one line per variant, x = connections
    lines = defaultdict(list)
    for (peer, variant, n), s in idle.items():
        if s["pss_conn"].ok():
            lines["%s %s" % (peer, variant)].append(
                (int(n), s["pre_conn_with_pte"].med() if s.get("pre_conn_with_pte") and
                 s["pre_conn_with_pte"].ok() else s["pss_conn"].med() + s["pte_conn"].med(),
                 s["post_pss_conn"].med() if s.get("post_pss_conn") and s["post_pss_conn"].ok() else None))
    if lines:
        blocks, plotcmds = [], []
        for i, (label, pts) in enumerate(lines.items()):
            fn = "idle-%d.dat" % i
            with open(os.path.join(outdir, fn), "w") as f:
                for n, pre, post in sorted(pts):
                    f.write("%d %.1f %s\n" % (n, pre, "%.1f" % post if post is not None else "?"))
            # a variant and its +KSM line share a colour
            plotcmds.append('"%s" using 1:2 with linespoints lc %d title "%s"'
                            % (fn, i + 1, label))
            if any(p[2] is not None for p in pts):
                plotcmds.append('"%s" using 1:3 with linespoints lc %d dashtype 2 title "%s +KSM"'
                                % (fn, i + 1, label))
        ns = sorted({n for pts in lines.values() for n, _, _ in pts})
        body = ('set xlabel "idle connections"\nset ylabel "KiB per connection (PSS + page tables)"\n'
                'set logscale x\nset xtics (%s)\nset xrange [%d:%d]\n'
                % (", ".join(str(n) for n in ns), ns[0] * 0.7, ns[-1] * 1.4) +
                'set key outside right noenhanced\nset yrange [0:*]\n'
                'plot ' + ", ".join(plotcmds) + "\n")
        ascii_plots["memory"] = plot_pair(outdir, "idle-memory", body,
                                          "Memory per idle connection (median)", 1000, 500)
    # throughput: one line per variant, x = clients
    lines = defaultdict(list)
    for (peer, variant, c), s in load.items():
        lines["%s %s" % (peer, variant)].append((int(c), s["cps"].med(),
                                                 s["fetch_p99_ms"].med()))
    # only complete series: a peer without a figure at some client count
    # (a run that failed) would draw a misleading line
    if lines:
        cmds, cmds99 = [], []
        for i, (label, pts) in enumerate(lines.items()):
            fn = "load-%d.dat" % i
            with open(os.path.join(outdir, fn), "w") as f:
                for c, cps, p99 in sorted(pts):
                    f.write("%d %.1f %.3f\n" % (c, cps, p99))
            cmds.append('"%s" using 1:2 with linespoints title "%s"' % (fn, label))
            cmds99.append('"%s" using 1:3 with linespoints title "%s"' % (fn, label))
        ascii_plots["throughput"] = plot_pair(
            outdir, "load-throughput",
            'set xlabel "clients"\nset ylabel "commands/s"\nset logscale x\n'
            'set xtics (10, 50, 200)\nset xrange [7:300]\nset key outside right noenhanced\n'
            'set yrange [0:*]\nplot '
            + ", ".join(cmds) + "\n",
            "Throughput (median of runs)")
        ascii_plots["fetch_p99"] = plot_pair(
            outdir, "load-fetch-p99",
            'set xlabel "clients"\nset ylabel "FETCH p99 latency (ms, log scale)"\n'
            'set logscale xy\nset xtics (10, 50, 200)\nset xrange [7:300]\n'
            'set key outside right noenhanced\nplot ' + ", ".join(cmds99) + "\n",
            "FETCH p99 latency (median of runs)")
    # KSM convergence of the first run of each variant at the largest N
    if series:
        by = group(series, ["peer", "variant", "n", "rep"])
        maxn = max(int(k[2]) for k in by)
        cmds = []
        for i, (k, rows) in enumerate(x for x in by.items()
                                      if int(x[0][2]) == maxn and x[0][3] == "1"):
            fn = "ksm-%d.dat" % i
            with open(os.path.join(outdir, fn), "w") as f:
                for r in rows:
                    f.write("%s %.2f\n" % (r["t"], int(r["merging_pages"]) * 4096 / 1048576))
            cmds.append('"%s" using 1:2 with linespoints title "%s %s"' % (fn, k[0], k[1]))
        if cmds:
            ascii_plots["ksm"] = plot_pair(
                outdir, "ksm-convergence",
                'set xlabel "seconds since ksmd started (sampled once a second)"\n'
                'set ylabel "MiB merged (ksm_merging_pages)" noenhanced\n'
                'set xrange [0:*]\nset yrange [0:*]\nset key outside right noenhanced\nplot ' + ", ".join(cmds) + "\n",
                "KSM merging over time, %d idle connections (run 1)" % maxn)
    return ascii_plots


# -------------------------------------------------------------- report ----

def env_dict(env):
    d = OrderedDict()
    for r in env:
        for k, v in r.items():
            if k == "peer":
                d.setdefault("peers", []).append(r)
                break
            d[k] = v
    return d


def img(w, ascii_plots, key, name, alt):
    """A plot: the PNG (docs/benchmarks/NAME.png once run.sh copied it)."""
    if ascii_plots.get(key):
        w("![%s](benchmarks/%s.png)" % (alt, name))
        w("")


def report(outdir, env, idle, load, ascii_plots, idle_rows, load_rows, cold):
    e = env_dict(env)
    L = []
    w = L.append
    w("<!-- SPDX-License-Identifier: GPL-2.0-or-later -->")
    w("<!-- Generated by bench/imap/run.sh and bench/imap/summarise.py; do not edit by hand. -->")
    w("# IMAP server benchmarks")
    w("")
    w("Measured by `bash bench/imap/run.sh` (`make bench`) on %s. Every figure "
      "below is the median of %s runs, with the smallest and largest run in "
      "parentheses; raw per-run lines are in `build/bench/imap/{idle,load,cold}.txt`, "
      "plots in `docs/benchmarks/*.png`." % (e.get("date", "?"), "the"))
    w("")
    w("## Machine and software")
    w("")
    w("| | |")
    w("|---|---|")
    w("| date (UTC) | %s |" % e.get("date", "?"))
    w("| CPU | %s, %s cores |" % (e.get("cpu", "?").replace("_", " "), e.get("cores", "?")))
    w("| memory | %.1f GiB |" % (float(e.get("mem_kb", 0)) / 1048576))
    w("| OS, kernel | %s, Linux %s |" % (e.get("os", "?").replace("_", " "), e.get("kernel", "?")))
    w("| transparent huge pages | %s |" % e.get("thp", "?"))
    for p in e.get("peers", []):
        if "version" in p:
            w("| peer `%s` | %s |" % (p["peer"], p["version"].replace("_", " ")))
        if "store_mib" in p and "format" in p:
            w("| mail store %s %s | %s users × %s messages, %s MiB on disk |"
              % (p["peer"], p["format"], p["users"], p["msgs"], p["store_mib"]))
    w("| settings | `%s` |" % e.get("settings", "?"))
    for k in sorted(k for k in e if k.startswith("settings") and k != "settings"):
        w("| settings (%s) | `%s` |" % (k, e[k]))
    w("| run time | %s s |" % e.get("elapsed_s", "?"))
    w("")
    w("The host is shared with other work (QEMU guests of other test suites "
      "may run at the same time); the load tables give the CPU seconds that "
      "other processes used during each run (`other CPU`) so that a noisy run "
      "can be recognised.")
    w("")
    if idle:
        w("## Memory per idle connection")
        w("")
        w("N connections, five per user, each logged in with an INBOX of "
          "the run's message count selected and then in IDLE "
          "(`loadgen --idle`). Memory is summed over every process of the "
          "server (the master and all its descendants): PSS from "
          "`/proc/PID/smaps_rollup` and page tables (`VmPTE`). *Per "
          "connection* is (the sum with N connections − the sum of the "
          "freshly started server) / N. The KSM columns come from the same "
          "runs: the server was started through `ksm-exec` "
          "(`prctl(PR_SET_MEMORY_MERGE)` on the master, inherited by every "
          "process), measured, then ksmd was switched on until the merged "
          "page count settled, and the server measured again.")
        w("")
        w("| peer | variant | N | processes | PSS/conn KiB | page tables/conn KiB | PSS+PT/conn KiB after KSM | saved by KSM |")
        w("|---|---|---:|---:|---:|---:|---:|---:|")
        for (peer, variant, n), s in idle.items():
            g = s.get
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                peer, variant, n, g("procs").fmt(0),
                g("pss_conn").fmt(0), g("pte_conn").fmt(0),
                g("post_pss_conn").fmt(0) if g("post_pss_conn") else "n/a",
                (g("ksm_saved_pct").fmt(1) + " %") if g("ksm_saved_pct") and g("ksm_saved_pct").ok() else "n/a"))
        w("")
        img(w, ascii_plots, "memory", "idle-memory", "memory per idle connection")
        w("## KSM")
        w("")
        w("*anon* is the server's anonymous memory in physical pages (frames "
          "counted once however many processes map them) before merging. "
          "*truly duplicate* is what a perfect merger could free: frames "
          "minus distinct page contents, found by hashing every anonymous "
          "page (`dupscan`: `/proc/PID/pagemap` for presence and frame "
          "numbers, `/proc/PID/mem` for contents). *merged of duplicate* is "
          "the frames KSM actually freed over that maximum. *t90*: seconds "
          "from switching ksmd on (pages_to_scan and sleep_millisecs as in "
          "the settings line) until the server's merged page count reached "
          "90 % of its final value. ksmd scans every mergeable area of the "
          "host, not just the server's, so its CPU figures include any "
          "other mergeable memory (QEMU guests mark theirs).")
        w("")
        w("| peer | variant | N | anon MiB | truly duplicate | merged of duplicate | anon PSS merged | t90 s | ksmd CPU s per saved MiB | ksmd share of a core, settled |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (peer, variant, n), s in idle.items():
            g = s.get
            if not (g("dup_merged_pct") and g("dup_merged_pct").ok()):
                continue
            w("| %s | %s | %s | %s | %s %% | %s %% | %s %% | %s | %s | %s |" % (
                peer, variant, n, g("anon_frames_mib").fmt(1),
                g("dup_frac").fmt(1, 100), g("dup_merged_pct").fmt(1),
                g("anon_merged_pct").fmt(1), g("t90").fmt(1),
                g("ksmd_s_per_mib").fmt(3) if g("ksmd_s_per_mib") else "n/a",
                g("ksmd_share").fmt(3)))
        w("")
        img(w, ascii_plots, "ksm", "ksm-convergence", "KSM merging over time")
    if load:
        w("## Throughput and latency")
        w("")
        w("`loadgen`: clients log in (two per user), select INBOX and "
          "issues, back to back, ops drawn with the weights fetch 35 "
          "(half one whole message, half headers and ENVELOPE of 20), store "
          "15, expunge 5 (STORE \\\\Deleted + EXPUNGE, two commands), append 5, "
          "search 10, noop 28, logout and log in again 2. Every response is "
          "checked; *errors* counts every failed check. Commands per second "
          "count tagged responses (LOGIN and SELECT of re-logins included). "
          "Server CPU is utime+stime of all its processes (reaped children "
          "included) over the measured window; loadgen and the server share "
          "the machine's cores.")
        w("")
        w("| peer | variant | clients | commands/s | errors | server CPU ms/command | server cores busy | other CPU s |")
        w("|---|---|---:|---:|---:|---:|---:|---:|")
        for (peer, variant, c), s in load.items():
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                peer, variant, c, s["cps"].fmt(0), s["errors"].fmt(0),
                s["cpu_ms_per_cmd"].fmt(3), s["server_util"].fmt(2),
                s["other_cpu_s"].fmt(1)))
        w("")
        w("Latency, milliseconds, p50 / p99 (medians over runs):")
        w("")
        cmds = [c for c in LAT_CMDS if c not in ("select", "logout")]
        w("| peer | variant | clients | " + " | ".join(cmds) + " |")
        w("|---|---|---:|" + "---:|" * len(cmds))
        for (peer, variant, c), s in load.items():
            cells = []
            for cmd in cmds:
                a, b = s[cmd + "_p50_ms"], s[cmd + "_p99_ms"]
                cells.append("%s / %s" % (a.fmt(2), b.fmt(2)) if a.ok() else "n/a")
            w("| %s | %s | %s | %s |" % (peer, variant, c, " | ".join(cells)))
        w("")
        img(w, ascii_plots, "throughput", "load-throughput", "throughput")
        img(w, ascii_plots, "fetch_p99", "load-fetch-p99", "FETCH p99 latency")
        errs = os.path.join(outdir, "load-errors.txt")
        if os.path.exists(errs) and os.path.getsize(errs):
            w("The first failures loadgen described (at most three per run), "
              "from `build/bench/imap/load-errors.txt`:")
            w("")
            w("```")
            with open(errs) as f:
                lines = f.read().splitlines()
            for line in lines[:12]:
                w(line[:160])
            if len(lines) > 12:
                w("... (%d more)" % (len(lines) - 12))
            w("```")
            w("")
    if cold:
        w("## Cold FETCH")
        w("")
        w("One user with one INBOX, filled through the server itself; for "
          "each run the server is started, the page cache dropped (`sync; "
          "echo 3 > /proc/sys/vm/drop_caches`) and every message fetched "
          "with one `FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])` "
          "(`tools/coldfetch.py`, which checks every literal against "
          "RFC822.SIZE and the count against EXISTS). Time from sending "
          "FETCH to its tagged OK. dboxd's *uring* and *sync* are its "
          "storage I/O backends (`DBOX_IO_BACKEND`), on the same store.")
        w("")
        w("| peer | I/O | messages | MiB | seconds | MiB/s |")
        w("|---|---|---:|---:|---:|---:|")
        for (peer, io), s in cold.items():
            w("| %s | %s | %s | %s | %s | %s |" % (
                peer, io, s["messages"].fmt(0), s["mib"].fmt(1),
                s["secs"].fmt(3), s["mib_s"].fmt(1)))
        w("")
        img(w, ascii_plots, "cold", "cold-fetch", "cold FETCH")
    w("## How to read and reproduce")
    w("")
    w("- `bash bench/imap/run.sh` as root; `--quick` for a small trial run. "
      "Settings are environment variables described at the top of the "
      "script; a peer (another server) is one shell function, see "
      "`bench/imap/peers/dovecot.sh`.")
    w("- The mail is generated by `mkmail` from a fixed seed (text, HTML "
      "alternatives, base64 attachments, threads), the same on every run, "
      "and APPENDed through the measured server itself into the first "
      "user's INBOX; the other users' mail directories are copies of it.")
    w("- Dovecot variants: *default* is Dovecot's built-in settings (one "
      "imap process per connection); *tuned* is `service imap { "
      "client_limit = 5  service_count = 0 }`; *hibernate* moves IDLE "
      "connections to the imap-hibernate process after 5 s. All raise the "
      "process and client limits so that the connection counts fit.")
    w("- dboxd variants: *template* is `ksm = prctl` with workers forked "
      "from the pre-initialised template (the default), *exec* the same "
      "with `worker_spawn = exec`. dboxd is not started through `ksm-exec`: "
      "its workers mark themselves; its master, login and auth processes "
      "stay unmerged. *+quickack* is the same server measured with "
      "`loadgen --quickack` (see the text).")
    w("- Not measured here: module-dependent variants (dboxd with ksmgroup, "
      "Dovecot attached by ksmgroupd) need a QEMU guest and are in "
      "bench/ksmgroupd.")
    w("")
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(L))


def write_summary(outdir, idle, load, cold):
    with open(os.path.join(outdir, "summary.txt"), "w") as f:
        for key, s in idle.items():
            f.write("idle peer=%s variant=%s n=%s runs=%d" % (key + (s["runs"],)))
            for k in sorted(x for x in s if x != "runs"):
                if s[k].ok():
                    f.write(" %s=%.3f" % (k, s[k].med()))
            f.write("\n")
        for key, s in cold.items():
            f.write("cold peer=%s io=%s runs=%d secs=%.3f mib_s=%.1f\n"
                    % (key + (s["runs"], s["secs"].med(), s["mib_s"].med())))
        for key, s in load.items():
            f.write("load peer=%s variant=%s clients=%s runs=%d" % (key + (s["runs"],)))
            for k in sorted(x for x in s if x != "runs"):
                if s[k].ok():
                    f.write(" %s=%.3f" % (k, s[k].med()))
            f.write("\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarise.py OUTDIR")
    outdir = sys.argv[1]
    env = read_kv(os.path.join(outdir, "env.txt"))
    idle_rows = read_kv(os.path.join(outdir, "idle.txt"))
    load_rows = read_kv(os.path.join(outdir, "load.txt"))
    series = read_kv(os.path.join(outdir, "ksm-series.txt"))
    cold = cold_stats(read_kv(os.path.join(outdir, "cold.txt")))
    idle = idle_stats(idle_rows)
    load = load_stats(load_rows)
    write_summary(outdir, idle, load, cold)
    ascii_plots = plots(outdir, idle, load, series, cold)
    report(outdir, env, idle, load, ascii_plots, idle_rows, load_rows, cold)


if __name__ == "__main__":
    main()
