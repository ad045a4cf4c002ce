#!/usr/bin/env python3
"""Prints the per-test table of CONFORMANCE.md from two oci-conformance tally.md files.

usage: .ci/conformance-table.py OURS/tally.md RUNC/tally.md
"""
import re
import sys


def load(path):
    rows = {}
    for line in open(path):
        m = re.match(r"\| (\w+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", line)
        if m:
            rows[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    return rows


def main():
    ours, runc = load(sys.argv[1]), load(sys.argv[2])
    print("| test | isobox-oci ok | not ok | skip | exit | runc ok | not ok | skip | exit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in sorted(set(ours) | set(runc)):
        o, r = ours.get(t, (0, 0, 0, 0)), runc.get(t, (0, 0, 0, 0))
        print(f"| {t} | {o[0]} | {o[1]} | {o[2]} | {o[3]} | {r[0]} | {r[1]} | {r[2]} | {r[3]} |")
    tot = lambda d, i: sum(v[i] for v in d.values())
    passed = lambda d: sum(1 for v in d.values() if v[1] == 0 and v[3] == 0)
    print(f"| **total** | **{tot(ours, 0)}** | **{tot(ours, 1)}** | **{tot(ours, 2)}** | {passed(ours)} passed "
          f"| **{tot(runc, 0)}** | **{tot(runc, 1)}** | **{tot(runc, 2)}** | {passed(runc)} passed |")


if __name__ == "__main__":
    main()
