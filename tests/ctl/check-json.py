# SPDX-License-Identifier: GPL-2.0-or-later
"""Check test-json's document against the bytes it was given.

usage: python3 check-json.py DOCUMENT HEXFILE
Valid UTF-8 must come back unchanged; invalid bytes must come back as
U+FFFD and nothing else must change. Prints one line per failure and
exits 1 if there was any.
"""
import json
import sys

doc = json.load(open(sys.argv[1], encoding="utf-8"))
cases = {"exact": [], "broken": []}
for line in open(sys.argv[2]):
    kind, _, hexbytes = line.strip().partition(" ")
    cases[kind].append(bytes.fromhex(hexbytes))

bad = 0
for raw, got in zip(cases["exact"], doc["exact"], strict=True):
    if got != raw.decode("utf-8"):
        print(f"exact {raw!r}: got {got!r}")
        bad += 1
for raw, got in zip(cases["broken"], doc["broken"], strict=True):
    if "\ufffd" not in got or got.replace("\ufffd", "") != raw.decode("utf-8", "ignore"):
        print(f"broken {raw!r}: got {got!r}")
        bad += 1
expect = {
    'key "quoted"\n': "v", "u64_max": 2**64 - 1, "s64_min": -(2**63),
    "yes": True, "no": False, "nothing": None, "empty_array": [],
    "empty_object": {}, "nested": [{"inner": [1, 2]}, {}],
}
for key, value in expect.items():
    if doc.get(key, "missing") != value:
        print(f"{key!r}: got {doc.get(key, 'missing')!r}, want {value!r}")
        bad += 1
sys.exit(1 if bad else 0)
