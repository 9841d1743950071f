#!/usr/bin/env python3
"""bench/submit.py: what a trusted client's message costs (RELAYCLIENT from
tern-setup's rules, so TERNQUEUE=tern-dkimsign, the same path as AUTH on
submission): CPU of the whole system per message, from its cgroup.

    bench/submit.py [N] [OLD_BINDIR]     (as root; default 200 messages)

Each system is set up as bench/bench.py sets up tern (tern-setup, pooled
workers and tern-queued where the build has them) with tern-setup's rules
kept (BENCH_DKIM=1); one session sends N messages of 1 KiB From
joe@tern.bench, which tern-setup made a key for, so each is signed.
OLD_BINDIR: the bin/ of another build (the code before a change), run
beside this one, interleaved, medians of BENCH_REPS (3) runs.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ["BENCH_DKIM"] = "1"
import bench  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
OLD = sys.argv[2] if len(sys.argv) > 2 else ""


def source(port, count, sender="joe@tern.bench"):
    r = subprocess.run(["smtp-source", "-s", "1", "-m", str(count), "-l", "1024", "-f", sender,
                        "-t", "u@bench.test", "127.0.0.1:%d" % port], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("smtp-source: " + r.stderr.strip())


def cpu_run(bindir, sender):
    """CPU ms per message of the whole system (its cgroup)."""
    cg = bench.CpuGroup("submit")
    t = bench.Tern(1, bindir, cg=cg)
    t.start_smtp()
    base = cg.seconds()
    source(t.port, N, sender)
    cpu = cg.seconds() - base
    got = t.queued()
    t.stop()
    cg.remove()
    if got != N:
        raise RuntimeError("%s: %d of %d messages queued" % (bindir, got, N))
    return cpu / N * 1000


def main():
    systems = [("after", bench.BIN)] + ([("before", OLD)] if OLD else [])
    for sender, what in (("joe@tern.bench", "signed (From domain with a key)"),
                         ("joe@nokey.test", "not signed (no rule for the From domain)")):
        print("## %s, %d messages, 1 session" % (what, N))
        res = {n: [] for n, _ in systems}
        for _ in range(bench.REPS):
            for name, b in systems:
                res[name].append(cpu_run(b, sender))
        for name, _ in systems:
            print("%s: CPU ms per message, median of %d: %.2f (runs %s)" % (
                name, bench.REPS, statistics.median(res[name]), " ".join("%.2f" % x for x in res[name])), flush=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("bench/submit.py: run as root (cgroups)")
    main()
    for p in bench.procs:
        bench.kill(p)
