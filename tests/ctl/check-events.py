# SPDX-License-Identifier: GPL-2.0-or-later
"""Check `ksmgroupctl --json watch` output against the helper's story.

usage: python3 check-events.py WATCH_OUTPUT GROUP_ID PID_A PID_B
Every line must be a JSON object; the events of GROUP_ID, leaving out the
state changes (converged/settling, which depend on timing), must be exactly
the story of `ctl-helper events`, in order. Prints unnumbered TAP lines.
"""
import json
import sys

path, gid, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def report(ok, what):
    print(("ok - " if ok else "not ok - ") + what, flush=True)


events, bad = [], 0
for line in open(path):
    try:
        events.append(json.loads(line))
    except ValueError:
        bad += 1
report(bad == 0 and events, f"watch --json: {len(events)} lines, each a JSON object ({bad} bad)")

ours = [(e["event"], e.get("pid")) for e in events
        if e.get("group_id") == gid and
        e["event"] not in ("group_converged", "group_settling")]
want = [("group_created", None), ("member_joined", a), ("member_left", a),
        ("member_joined", b), ("member_exited", b), ("group_destroyed", None)]
report(ours == want, f"watch: group {gid}'s events in order: {ours}")
named = [e for e in events if e.get("group_id") == gid and
         e["event"] in ("member_joined", "member_left", "member_exited")]
report(named and all(e.get("name") == "ctl-w" for e in named),
       "watch: member events carry the group's name")
stamps = [e["time"] for e in events]
report(stamps == sorted(stamps), "watch: time stamps never go backwards")
