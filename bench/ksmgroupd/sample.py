#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Sample KSM figures every 2 s into CSV until WINDOW seconds after the IMAP
# client reported all its logins done (its "connected" line in CLIENT_LOG).
# One Python process reading /proc directly: forking awk per imap process
# per sample would itself load the TCG guest by a different amount per run.
# t in the CSV is seconds since logins were done (negative before), so t=0
# is the same event in every mode. A client that never connects ends the
# sampling after GIVE_UP seconds; the CSV then has no t >= 0.
# The imap_* columns sum over the server's processes named COMM (default
# imap, Dovecot's; dboxd's are all named dboxd, and only its workers merge).
# usage: sample.py OUT.csv CLIENT_LOG WINDOW KSMD_PID [COMM]
import os, sys, time

KSM = "/sys/kernel/mm/ksm/"
GIVE_UP = 1500
out, client_log, window, ksmd = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
comm = sys.argv[5] if len(sys.argv) > 5 else "imap"

def knob(name):
    with open(KSM + name) as f:
        return int(f.read())

def ksmd_ticks():
    with open("/proc/%s/stat" % ksmd) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime

def imap_figures():
    procs = merging = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != comm:
                    continue
            procs += 1
            with open("/proc/%s/ksm_merging_pages" % pid) as f:
                merging += int(f.read())
        except (OSError, ValueError):
            pass                       # exited between listdir and open
    return procs, merging

def logins_done():
    try:
        with open(client_log) as f:
            return "connected" in f.read()
    except OSError:
        return False

hz = os.sysconf("SC_CLK_TCK")
start = time.monotonic()
t0 = None
with open(out, "w") as csv:
    csv.write("t,pages_sharing,pages_shared,full_scans,imap_procs,"
              "imap_merging_pages,ksmd_cpu_s,pages_to_scan,sleep_ms\n")
    while True:
        now = time.monotonic()
        if t0 is None and logins_done():
            t0 = now
        if t0 is None and now - start > GIVE_UP:
            break
        # Before t0 the offset is provisional; rewritten below once t0 is known.
        t = now - (t0 if t0 is not None else start)
        procs, merging = imap_figures()
        csv.write("%s%.2f,%d,%d,%d,%d,%d,%.2f,%d,%d\n" % (
            "" if t0 is not None else "~", t, knob("pages_sharing"),
            knob("pages_shared"), knob("full_scans"), procs, merging,
            ksmd_ticks() / hz, knob("pages_to_scan"), knob("sleep_millisecs")))
        csv.flush()
        if t0 is not None and t >= window:
            break
        time.sleep(max(0.0, 2.0 - (time.monotonic() - now)))

# Rows sampled before the logins were done carry "~" and time since start:
# shift them so that every t is relative to t0.
if t0 is not None:
    rows = open(out).read().splitlines()
    fixed = [rows[0]]
    for r in rows[1:]:
        if r.startswith("~"):
            t, rest = r[1:].split(",", 1)
            r = "%.2f,%s" % (float(t) - (t0 - start), rest)
        fixed.append(r)
    open(out, "w").write("\n".join(fixed) + "\n")
