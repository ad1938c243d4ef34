# SPDX-License-Identifier: GPL-2.0-or-later
"""Compare ksmgroupctl's netlink view of groups with /sys/kernel/ksmgroup.

usage: python3 nl-vs-sysfs.py KSMGROUPCTL GROUP_ID...
Prints unnumbered TAP lines ("ok - ...", "not ok - ..."). Figures move
while ksmd and the sweeper work, so each comparison reads sysfs before and
after the netlink dump and only compares when the two reads agree (a few
tries), which is when the dump must agree too.
"""
import json
import os
import subprocess
import sys

ctl, ids = sys.argv[1], [int(i) for i in sys.argv[2:]]
SYS = "/sys/kernel/ksmgroup"
FIGURES = ["members", "merging_pages", "rmap_items", "anon_pages", "profit",
           "vmas_marked", "sweeps"]


def report(ok, what):
    print(("ok - " if ok else "not ok - ") + what, flush=True)


def sysfs(gid):
    d = f"{SYS}/{gid}"
    snap = {"name": open(f"{d}/name").read().strip(),
            "state": open(f"{d}/state").read().strip(),
            "policy": sorted(open(f"{d}/policy").read().split())}
    for f in FIGURES:
        snap[f] = int(open(f"{d}/{f}").read())
    # zero_pages exists where the kernel counts them (6.10+); elsewhere
    # ksmgroupctl must say null rather than a made-up 0.
    zp = f"{d}/zero_pages"
    snap["zero_pages"] = int(open(zp).read()) if os.path.exists(zp) else None
    snap["pids"] = sorted(int(p) for p in open(f"{d}/pids").read().split())
    return snap


def ctl_json(*args):
    out = subprocess.run([ctl, "--json", *args], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def netlink(gid):
    groups = {g["id"]: g for g in ctl_json("list")["groups"]}
    g = groups[gid]
    snap = {"name": g["name"], "state": g["state"],
            "policy": sorted(g["policy"])}
    for f in FIGURES + ["zero_pages"]:
        snap[f] = g[f]
    show = ctl_json("show", str(gid))
    snap["pids"] = sorted(m["pid"] for m in show["members"])
    snap["member_sums"] = {
        f: sum(m[f] for m in show["members"])
        for f in ("merging_pages", "rmap_items", "anon_pages", "profit")}
    zeros = [m["zero_pages"] for m in show["members"]]
    snap["member_sums"]["zero_pages"] = (
        None if zeros and all(z is None for z in zeros) else sum(zeros))
    snap["show_group"] = show["group"]
    return snap


for gid in ids:
    for attempt in range(10):
        before = sysfs(gid)
        nl = netlink(gid)
        after = sysfs(gid)
        if before == after:
            break
    else:
        report(False, f"group {gid}: sysfs never held still for a comparison")
        continue
    for key in ["name", "state", "policy", "zero_pages"] + FIGURES + ["pids"]:
        report(nl[key] == before[key],
               f"group {gid} ({before['name']}): netlink {key} {nl[key]} "
               f"== sysfs {before[key]}")
    # A member's figures are the group's, split: the sums must agree.
    for f, total in nl["member_sums"].items():
        report(total == before[f],
               f"group {gid}: members' {f} sum to the group's ({total} == {before[f]})")
    report(nl["show_group"]["id"] == gid and nl["show_group"]["name"] == before["name"],
           f"group {gid}: show's group object names the group")

count = int(open(f"{SYS}/groups").read())
listed = len(ctl_json("list")["groups"])
report(count == listed, f"/sys/kernel/ksmgroup/groups {count} == groups listed {listed}")
