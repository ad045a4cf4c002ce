#!/usr/bin/env python3
"""Prints the medians of the last `cargo bench --bench spawn` run as Markdown tables.

Reads target/criterion/<group>/<bench>/new/estimates.json; ratios are to the group's
std::process::Command (or, for parent_size, to the same spawn from the small parent).
Usage: python3 benches/criterion_table.py [target/criterion]
"""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"


def median_us(path):
    with open(os.path.join(path, "new", "estimates.json")) as f:
        est = json.load(f)["median"]
    return est["point_estimate"] / 1000, est["confidence_interval"]["lower_bound"] / 1000, est["confidence_interval"]["upper_bound"] / 1000


def benches(group):
    out = []
    gdir = os.path.join(root, group)
    for dirpath, _, files in os.walk(gdir):
        if os.path.basename(dirpath) == "new" and "benchmark.json" in files:
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                meta = json.load(f)
            out.append((meta["title"], median_us(os.path.dirname(dirpath))))
    return out


for group in ["spawn_wait", "spawn_running", "parent_size", "parallel"]:
    rows = benches(group)
    if not rows:
        continue
    base = dict(rows).get(f"{group}/std::process::Command")
    print(f"\n### {group}\n\n| bench | median µs | 95% CI | ratio |\n| --- | ---: | --- | ---: |")
    for title, (med, lo, hi) in sorted(rows, key=lambda r: r[1][0]):
        ref = base
        if group == "parent_size":
            ref = dict(rows).get(title.rsplit("/", 1)[0] + "/small")
        ratio = f"{med / ref[0]:.2f}" if ref else ""
        print(f"| {title} | {med:.0f} | {lo:.0f}–{hi:.0f} | {ratio} |")
