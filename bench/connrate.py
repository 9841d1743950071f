#!/usr/bin/env python3
"""bench/connrate.py: tern-tcpserver's connection rate, A/B.

Runs each given tern-tcpserver binary in turn (interleaved, ROUNDS times)
with `true` as the program, opens N short connections from PAR threads
(each connects, reads to EOF, closes) and prints connections per second and
the CPU the tcpserver process itself used per connection (from
/proc/PID/stat, so the children's exec does not count).

    bench/connrate.py [-n 2000] [-p 4] [-r 5] [-- extra tcpserver opts] BIN...
"""
import argparse
import os
import socket
import statistics
import subprocess
import threading
import time


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def run(binary, n, par, opts):
    p = subprocess.Popen([binary, "-1", "-u", str(os.getuid()), "-g", str(os.getgid())] + opts
                         + ["127.0.0.1", "0", "true"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = int(p.stdout.readline())
    left = [n]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            while s.recv(4096):
                pass
            s.close()
    t0 = cpu_ticks(p.pid)
    start = time.monotonic()
    th = [threading.Thread(target=worker) for _ in range(par)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    el = time.monotonic() - start
    ticks = cpu_ticks(p.pid) - t0
    p.terminate()
    p.wait()
    return n / el, ticks * 1e6 / os.sysconf("SC_CLK_TCK") / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("-p", type=int, default=4)
    ap.add_argument("-r", type=int, default=5)
    ap.add_argument("bins", nargs="+")
    ap.add_argument("--opts", default="")
    a = ap.parse_args()
    opts = a.opts.split()
    res = {b: [] for b in a.bins}
    for _ in range(a.r):
        for b in a.bins:
            res[b].append(run(b, a.n, a.p, opts))
    for b in a.bins:
        rates = [r for r, _ in res[b]]
        cpus = [c for _, c in res[b]]
        print("%s: %.0f conn/s (median of %d; min %.0f max %.0f), tcpserver CPU %.0f us/conn (median)"
              % (b, statistics.median(rates), a.r, min(rates), max(rates), statistics.median(cpus)))


main()
