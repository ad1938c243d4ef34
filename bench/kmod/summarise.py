#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Medians (with min-max) of ksmg-prio result lines, and ratios to madvise."""
import statistics
import sys

runs = {}
for line in sys.stdin:
    fields = dict(f.split("=", 1) for f in line.split())
    runs.setdefault(fields["mode"], []).append(fields)

base = None
for mode in ("madvise", "module", "governed"):
    rows = runs.get(mode, [])
    t = [float(r["t90_s"]) for r in rows if float(r["t90_s"]) >= 0]
    cpu = [float(r["ksmd_cpu_s"]) for r in rows if float(r["t90_s"]) >= 0]
    if not t:
        print(f"{mode:9} no run reached 90 %")
        continue
    tm, cm = statistics.median(t), statistics.median(cpu)
    if mode == "madvise":
        base = (tm, cm)
    ratio = f"  time x{tm / base[0]:.2f}, ksmd cpu x{cm / base[1]:.2f} vs madvise" if base else ""
    print(f"{mode:9} t90 {tm:7.1f} s [{min(t):.1f}-{max(t):.1f}]  "
          f"ksmd cpu {cm:6.1f} s [{min(cpu):.1f}-{max(cpu):.1f}]  n={len(t)}{ratio}")
