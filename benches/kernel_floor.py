#!/usr/bin/env python3
"""isobox against the kernel floor: benches/kernel_floor.c makes the system calls of the same
sandboxes directly from C (no library, no checks, no error pipe), and this script runs it and
isobox's latency bench (restricted to the same variants) in alternation, ROUNDS times, so
both see the machine in the same state. Prints each run's table, then the ratios side by side.

    python3 benches/kernel_floor.py            # as root or with unprivileged user namespaces
    ISOBOX_FLOOR_ROUNDS=5 ISOBOX_FLOOR_SPAWNS=600 python3 benches/kernel_floor.py
"""
import os
import re
import subprocess
import tempfile

ROUNDS = int(os.environ.get("ISOBOX_FLOOR_ROUNDS", "3"))
SPAWNS = int(os.environ.get("ISOBOX_FLOOR_SPAWNS", "400"))
HERE = os.path.dirname(os.path.abspath(__file__))
TINY_C = '#include <unistd.h>\nint main(void) { return write(1, "x", 1) == 1 ? 0 : 1; }\n'
# The isobox variants that match the C program's rows, in the same order.
ISOBOX_ROWS = ["std::process::Command", "user+pid+mount+uts+ipc", "+hostname (full, no net)", "+net"]


def build(work):
    root = os.path.join(work, "root")
    for d in ("proc", "dev"):
        os.makedirs(os.path.join(root, d))
    with open(os.path.join(work, "tiny.c"), "w") as f:
        f.write(TINY_C)
    subprocess.run(["cc", "-static", "-O2", "-o", os.path.join(root, "tiny"), os.path.join(work, "tiny.c")], check=True)
    floor = os.path.join(work, "kernel_floor")
    subprocess.run(["cc", "-O2", "-o", floor, os.path.join(HERE, "kernel_floor.c")], check=True)
    subprocess.run(["cargo", "bench", "--bench", "latency", "--no-run", "-q"], check=True, cwd=os.path.dirname(HERE))
    return root, floor


def ratios(table, column):
    """The ratio column of each row of a Markdown table, in row order."""
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    return [float(r[column]) for r in rows[1:]]


def isobox(order):
    env = dict(os.environ, ISOBOX_LATENCY_ONLY=";".join(ISOBOX_ROWS[1:]), ISOBOX_LATENCY_SPAWNS=str(SPAWNS),
               ISOBOX_LATENCY_ORDER=order)
    out = subprocess.run(["cargo", "bench", "--bench", "latency", "-q"], env=env, check=True, capture_output=True,
                         text=True, cwd=os.path.dirname(HERE)).stdout
    print(out)
    return ratios(out, 4)


def main():
    with tempfile.TemporaryDirectory(prefix="isobox-floor-") as work:
        root, floor = build(work)
        summary = []
        for _ in range(ROUNDS):
            out = subprocess.run([floor, root, str(SPAWNS)], check=True, capture_output=True, text=True).stdout
            print(out)
            c_back, c_turns = ratios(out, 2), ratios(out, 4)
            summary.append((c_back, isobox("back-to-back"), c_turns, isobox("turns")))
    print("| run | variant | C back to back | isobox back to back | C taking turns | isobox taking turns |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for run, cols in enumerate(summary, 1):
        for i, name in enumerate(ISOBOX_ROWS[1:], 1):
            print("| %d | %s | %s |" % (run, name, " | ".join("%.2f" % col[i] for col in cols)))


if __name__ == "__main__":
    main()
