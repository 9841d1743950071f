#!/usr/bin/env python3
"""queue_cost.py A B [DIR] [ROUNDS] [RUNS]: the per-message cost of two
tern-queue binaries, side by side (bench/RESULTS.md, "tern-queue, hardened").

Each round runs A RUNS times, then B RUNS times, each into its own fresh
TERN_HOME under DIR (default /dev/shm: no disk wait, so the figure is CPU;
give a directory on disk to see the fsyncs). Per run: posix_spawn, a 4 KiB
message on fd 0 and an envelope on fd 1. Prints, per binary, the median
over rounds of the children's user+sys and of the wall time per run, and
the median of the pairwise ratios B/A (pairs keep the ratio meaningful
while the machine's speed drifts)."""
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time

MSG = b"Subject: bench\n\n" + (b"y" * 71 + b"\n") * 56
ENV = b"Fa@b.test\0Tc@d.test\0\0"


def home(base):
    h = tempfile.mkdtemp(prefix="tern-qcost-", dir=base)
    for d in ("queue/tmp", "queue/mess", "control"):
        os.makedirs(os.path.join(h, d))
    return h


def rounds(prog, h, runs, files):
    """(cpu seconds, wall seconds) per run over runs runs."""
    env = dict(os.environ, TERN_HOME=h)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    acts = [(os.POSIX_SPAWN_OPEN, 0, files[0], os.O_RDONLY, 0), (os.POSIX_SPAWN_OPEN, 1, files[1], os.O_RDONLY, 0)]
    for _ in range(runs):
        # posix_spawn (vfork): a fork of this interpreter would count its
        # own page copying in the child's time
        pid = os.posix_spawn(prog, [prog], env, file_actions=acts)
        _, st = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(st):
            sys.exit("%s exited %d" % (prog, os.waitstatus_to_exitcode(st)))
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu / runs, wall / runs


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: queue_cost.py A B [DIR] [ROUNDS] [RUNS]")
    a, b = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    base = sys.argv[3] if len(sys.argv) > 3 else "/dev/shm"
    n_rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 12
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    work = tempfile.mkdtemp(prefix="tern-qcost-", dir=base)
    try:
        files = (os.path.join(work, "msg"), os.path.join(work, "env"))
        for f, data in zip(files, (MSG, ENV)):
            with open(f, "wb") as fh:
                fh.write(data)
        ha, hb = home(work), home(work)
        rounds(a, ha, 20, files), rounds(b, hb, 20, files)   # warm-up
        res = [(rounds(a, ha, runs, files), rounds(b, hb, runs, files)) for _ in range(n_rounds)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for i, name in ((0, "A " + a), (1, "B " + b)):
        cpu = [r[i][0] * 1e3 for r in res]
        wall = [r[i][1] * 1e3 for r in res]
        print("%s: cpu %.3f ms (%.3f-%.3f), wall %.3f ms (%.3f-%.3f) per run"
              % (name, statistics.median(cpu), min(cpu), max(cpu), statistics.median(wall), min(wall), max(wall)))
    for j, what in ((0, "cpu"), (1, "wall")):
        q = [r[1][j] / r[0][j] for r in res]
        print("B/A %s: median %.3f (%.3f-%.3f)" % (what, statistics.median(q), min(q), max(q)))


if __name__ == "__main__":
    main()
