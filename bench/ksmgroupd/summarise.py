#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Summarise samples-*.csv under DIR: final saving, time to 90 % of it, ksmd
# CPU-seconds over the window, and ratios of the ksmgroupd run to each peer.
import csv, glob, sys

def one(path):
    rows = list(csv.DictReader(open(path)))
    if not rows:
        return None
    last = rows[-1]
    fin = int(last["pages_sharing"])
    t90 = next((float(r["t"]) for r in rows
                if fin and int(r["pages_sharing"]) >= 0.9 * fin), None)
    return dict(pages_sharing=fin, merging=int(last["imap_merging_pages"]),
                procs=int(last["imap_procs"]), t90=t90,
                cpu=float(last["ksmd_cpu_s"]), window=float(last["t"]))

res = {}
for p in sorted(glob.glob(sys.argv[1] + "/**/samples-*.csv", recursive=True)):
    tag = p.rsplit("samples-", 1)[1][:-4]
    res[tag] = one(p)
    print(tag, res[tag])
a = next((v for k, v in res.items() if k.startswith("ksmgroupd") and v), None)
for k, b in res.items():
    if a and b and not k.startswith("ksmgroupd"):
        r = lambda x, y: "%.2f" % (x / y) if y else "n/a"
        print("A/B vs %s: saving %s, t90 %s, ksmd cpu %s" % (k,
              r(a["pages_sharing"], b["pages_sharing"]),
              r(a["t90"] or 0, b["t90"] or 0), r(a["cpu"], b["cpu"])))
