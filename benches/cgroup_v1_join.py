#!/usr/bin/env python3
"""What joining a cgroup v1 hierarchy costs: the parent writing the child's pid to
cgroup.procs (how isobox did it before) against the child writing "0" to tasks (how it does
it now, see src/cgroup/join.rs). Needs root. Mounts a named v1 hierarchy with no controllers
in a temporary directory (removed afterwards), so it runs on cgroup v1 hosts and on v2-only
kernels alike:

    sudo python3 benches/cgroup_v1_join.py
    ../shared/vmtest/run-in-vm -- python3 benches/cgroup_v1_join.py   # Linux 6.1, default settings
"""
import os
import subprocess
import tempfile
import time

ROUNDS = 60


def now_us():
    return time.perf_counter_ns() / 1000


def one_round(cgroup, child_joins):
    """Forks a child that waits for a byte; places it in `cgroup`; returns the µs it took."""
    procs = os.open(cgroup + "/cgroup.procs", os.O_WRONLY)
    tasks = os.open(cgroup + "/tasks", os.O_WRONLY)
    go_r, go_w = os.pipe()
    took_r, took_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.read(go_r, 1)
        if child_joins:
            start = now_us()
            os.write(tasks, b"0")
            os.write(took_w, str(now_us() - start).encode())
        os._exit(0)
    if child_joins:
        os.write(go_w, b"x")
        took = float(os.read(took_r, 100))
    else:
        start = now_us()
        os.write(procs, str(pid).encode())
        took = now_us() - start
        os.write(go_w, b"x")
    os.waitpid(pid, 0)
    for fd in (procs, tasks, go_r, go_w, took_r, took_w):
        os.close(fd)
    return took


def main():
    mnt = tempfile.mkdtemp(prefix="isobox-v1-")
    subprocess.run(["mount", "-t", "cgroup", "-o", "none,name=isoboxbench", "cgroup", mnt], check=True)
    results = {"parent writes the pid to cgroup.procs": [], "child writes 0 to tasks": []}
    try:
        for i in range(ROUNDS):
            cgroup = "%s/c%d" % (mnt, i)
            os.mkdir(cgroup)
            child_joins = i % 2 == 1
            key = "child writes 0 to tasks" if child_joins else "parent writes the pid to cgroup.procs"
            results[key].append(one_round(cgroup, child_joins))
            os.rmdir(cgroup)
    finally:
        subprocess.run(["umount", mnt], check=True)
        os.rmdir(mnt)
    print("| how | p50 µs | p90 µs | rounds |\n| --- | ---: | ---: | ---: |")
    for how, times in results.items():
        times.sort()
        p50, p90 = times[len(times) // 2], times[int(len(times) * 0.9)]
        print("| %s | %.0f | %.0f | %d |" % (how, p50, p90, len(times)))


if __name__ == "__main__":
    main()
