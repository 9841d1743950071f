#!/usr/bin/env python3
"""A pooled tern-smtpd worker does not grow with the sessions it serves
(issue 14): one worker (-c 1) serves many sessions in a row, each with a
message and a POP-before-SMTP grant (-P sets RELAYCLIENT and RBLSMTPD for
the session); the heap it holds after the last session is within a bound of
the heap it held after the first ones. No timing: sizes only, from
/proc/PID/smaps. docs/pool.md ("Memory")."""
import os
import re
import socket
import subprocess

import tap
import tern
from smtpraw import read_log

WARM = 100      # sessions before the first measure (allocator warm-up)
MORE = 900      # sessions between the two measures
BOUND = 64 * 1024   # bytes of growth allowed over MORE sessions (71 per session)


def heap_kib(pid):
    """Rss of the [heap] mapping plus anonymous private memory, in KiB."""
    text = open("/proc/%d/smaps" % pid).read()
    total = 0
    for block in re.split(r"\n(?=[0-9a-f]+-[0-9a-f]+ )", text):
        head = block.split("\n", 1)[0]
        if "[heap]" in head or len(head.split()) < 6:
            m = re.search(r"^Rss:\s+(\d+) kB", block, re.M)
            total += int(m.group(1)) if m else 0
    return total


def session(port, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                return line
    reply()
    for line in (b"EHLO c%d.test" % n, b"MAIL FROM:<a%d@x.test>" % n, b"RCPT TO:<u@far%d.test>" % n, b"DATA"):
        s.sendall(line + b"\r\n")
        r = reply()
        if not r[:1] in (b"2", b"3"):
            return line + b": " + r
    s.sendall(b"Subject: %d\r\n\r\nbody %d\r\n.\r\n" % (n, n))
    r = reply()
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()
    return r


def main():
    home = tern.make_home({"rcpthosts": ["tern.test"], "timeoutsmtpd": "20"})
    tern.make_queue(home)
    # a fresh POP-before-SMTP record for 127.0.0.1: -P grants relaying
    os.makedirs(os.path.join(home, "relay"), exist_ok=True)
    r = subprocess.run([tern.prog("tern-relayallow"), "-n", "true"], stderr=subprocess.PIPE,
                       env=dict(os.environ, TERN_HOME=home, TCPREMOTEIP="127.0.0.1"))
    assert r.returncode == 0, r.stderr
    chain = [tern.prog("tern-smtpd"), "-P"]
    p, port, log = tern.tcpserver(chain, rules=":allow\n", env={"TERN_HOME": home},
                                  opts=("-c", "1", "-k", "1", "-w", "100000"))
    first = session(port, 0)
    tap.ok(first.startswith(b"250 "), "a relayed message (the -P grant) is accepted", first)
    for n in range(1, WARM):
        session(port, n)
    pids = set(re.findall(r"tern-tcpserver: ok (\d+) ", read_log(log)))
    tap.is_(len(pids), 1, "one worker served every session")
    pid = int(pids.pop())
    before = heap_kib(pid)
    bad = 0
    for n in range(WARM, WARM + MORE):
        if not session(port, n).startswith(b"250 "):
            bad += 1
    after = heap_kib(pid)
    tap.is_(bad, 0, "%d more sessions, each message accepted" % MORE)
    print("# heap and anonymous memory: %d KiB after %d sessions, %d KiB after %d" % (before, WARM, after, WARM + MORE))
    if "address" in os.environ.get("TERN_SAN", ""):
        # ASan's allocator holds freed memory in quarantine: sizes say nothing
        tap.ok(True, "# SKIP the heap bound under AddressSanitizer")
        tern.stop(p)
        return
    tap.ok((after - before) * 1024 <= BOUND,
           "the worker's heap grew by at most %d bytes over %d sessions" % (BOUND, MORE),
           "before %d KiB, after %d KiB" % (before, after))
    tern.stop(p)


if __name__ == "__main__":
    try:
        main()
    finally:
        tap.done()
