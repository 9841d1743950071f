#!/usr/bin/env python3
"""bench/dnsbl.py: how long tern-rblsmtpd takes to decide with several lists
when some answer slowly, beside ucspi-tcp's rblsmtpd (which asks lists in turn).

    make && python3 bench/dnsbl.py [runs]        (results: bench/dnsbl.md)

Both programs ask tests/lib/slowdns.py, a responder whose zones answer after a
set delay. rblsmtpd's resolver only talks to port 53 ($DNSCACHEIP), so as root
the responder listens on 127.0.0.153:53 and both programs use it; otherwise it
takes a free port and only tern-rblsmtpd runs. The client is unlisted, so
every list must answer before the client may pass; the time is from exec to
the exit of the next program (`true`): lookups, decision, exec.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from slowdns import SlowDNS  # noqa: E402

TERN = os.path.join(os.environ.get("TERN_BIN", os.path.join(TOP, "build", "bin")), "tern-rblsmtpd")
DELAY = 0.5
SCENARIOS = [
    ("1 list, instant", ["fast1.test"]),
    ("3 lists, instant", ["fast1.test", "fast2.test", "fast3.test"]),
    ("3 lists, one answers after %.1f s" % DELAY, ["fast1.test", "fast2.test", "slow1.test"]),
    ("3 lists, all answer after %.1f s" % DELAY, ["slow1.test", "slow2.test", "slow3.test"]),
    ("5 lists, instant", ["fast1.test", "fast2.test", "fast3.test", "fast4.test", "fast5.test"]),
    ("5 lists, one answers after %.1f s" % DELAY, ["fast1.test", "fast2.test", "fast3.test", "fast4.test", "slow1.test"]),
]


def start_responder():
    zones = {"fast1.test": 0.0, "fast2.test": 0.0, "fast3.test": 0.0, "fast4.test": 0.0, "fast5.test": 0.0,
             "slow1.test": DELAY, "slow2.test": DELAY, "slow3.test": DELAY}
    if os.geteuid() == 0:
        try:
            return SlowDNS({}, zones, host="127.0.0.153", port=53), True
        except OSError:
            pass
    return SlowDNS({}, zones), False


def timed(argv, env):
    t0 = time.monotonic()
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, timeout=120, check=False)
    return time.monotonic() - t0


def measure(dns, peer, runs):
    base = {k: v for k, v in os.environ.items() if k != "RBLSMTPD"}
    base["TCPREMOTEIP"] = "127.0.0.3"
    rows = []
    for name, lists in SCENARIOS:
        opts = [x for l in lists for x in ("-r", l)]
        t = [timed([TERN, "-t", "30"] + opts + ["true"], dict(base, TERN_DNS=dns.addr)) for _ in range(runs)]
        row = [name, statistics.median(t)]
        if peer:
            p = [timed(["rblsmtpd", "-t", "30"] + opts + ["true"], dict(base, DNSCACHEIP="127.0.0.153"))
                 for _ in range(runs)]
            row.append(statistics.median(p))
        rows.append(row)
    return rows


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    dns, on53 = start_responder()
    peer = on53 and shutil.which("rblsmtpd") is not None
    try:
        rows = measure(dns, peer, runs)
    finally:
        dns.close()
    head = "| scenario | tern-rblsmtpd |" + (" rblsmtpd (ucspi-tcp 0.88) |" if peer else "")
    print(head)
    print("|---|---|" + ("---|" if peer else ""))
    for r in rows:
        print("| %s | %.3f s |" % (r[0], r[1]) + (" %.3f s |" % r[2] if peer else ""))
    print("\nmedian of %d runs; unlisted client (every list must answer)." % runs)


main()
