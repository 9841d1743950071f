#!/usr/bin/env python3
"""tern-rblsmtpd with lists that answer late or never (tests/lib/slowdns.py):
all lists are asked at once, so the decision takes the slowest answer's time,
not the sum; a list that never answers is cut at -t. Also hostile TXT text."""
import os
import subprocess
import time

import tap
import tern
from slowdns import SlowDNS

RBL = tern.prog("tern-rblsmtpd")
DELAY = 1.2          # seconds a slow list takes to answer


def run(opts, dns, ip, data=b"MAIL FROM:<a@x.test>\r\nQUIT\r\n"):
    d = tern.tmpdir()
    mark = os.path.join(d, "reached")
    env = dict(os.environ, TERN_DNS=dns.addr, TCPREMOTEIP=ip)
    env.pop("RBLSMTPD", None)
    t0 = time.monotonic()
    p = subprocess.run([RBL] + opts + ["sh", "-c", 'echo yes > "$0"', mark], input=data,
                       capture_output=True, env=env, timeout=30)
    secs = time.monotonic() - t0
    return p.stdout.decode(), p.stderr.decode(), secs, os.path.exists(mark)


def main():
    listed = [("A", "127.0.0.2"), ("TXT", "listed here")]
    dns = SlowDNS({"2.0.0.127.fast1.test": listed, "2.0.0.127.slow.test": listed,
                   "2.0.0.127.slow1.test": listed, "2.0.0.127.bad.test":
                   [("A", "127.0.0.2"), ("TXT", b"bad\r\n250 2.0.0 ok\r\nzero\x00byte \xff")]},
                  zones={"fast1.test": 0.0, "fast2.test": 0.0, "slow.test": DELAY,
                         "slow1.test": DELAY, "slow2.test": DELAY, "slow3.test": DELAY,
                         "dead.test": None, "bad.test": 0.0})
    three = ["-t", "10", "-r", "fast1.test", "-r", "fast2.test", "-r", "slow.test"]

    # one slow list of three, a client none of them lists: every answer is needed
    out, err, secs, reached = run(three, dns, "127.0.0.3")
    tap.ok(reached, "unlisted client passes after all three lists answered")
    tap.ok(DELAY * 0.9 <= secs < DELAY + 1.5, "decision took about the slow list's time: %.2f s (slow list %.1f s)" % (secs, DELAY))
    tap.note("one slow list of three: %.3f s" % secs)

    # three slow lists: asked in turn this would take 3 x DELAY (6 x with A and TXT)
    out, err, secs, reached = run(["-t", "10", "-r", "slow1.test", "-r", "slow2.test", "-r", "slow3.test"], dns, "127.0.0.3")
    tap.ok(reached, "three slow lists: client passes")
    tap.ok(secs < 2.5 * DELAY, "three slow lists took %.2f s, not the sum (%.1f s)" % (secs, 3 * DELAY))
    tap.note("three slow lists: %.3f s" % secs)
    names = {"3.0.0.127.slow%d.test" % i for i in (1, 2, 3)}
    asked = [q for q in dns.queries if q[1] in names]
    tap.is_(len({q[1] for q in asked}), 3, "each slow list was asked")
    tap.ok(max(q[0] for q in asked) - min(q[0] for q in asked) < DELAY / 2, "all queries went out before the first answer came")

    # a listing slow list blocks with its text
    out, err, secs, reached = run(three, dns, "127.0.0.2")
    tap.ok(not reached, "client listed by fast and slow lists is blocked")
    tap.like(out, "451 4.7.1 listed here", "with the TXT text")
    tap.like(err, "list=fast1.test", "the first listing list on the command line decides")

    # a list that never answers: cut at -t; the others still count
    out, err, secs, reached = run(["-t", "2", "-r", "fast2.test", "-r", "dead.test"], dns, "127.0.0.2")
    tap.ok(reached, "dead list, nothing listed, -C: passes")
    tap.ok(1.5 <= secs < 6, "at the -t 2 limit (%.2f s)" % secs)
    tap.like(err, "list=dead.test", "the dead list is named in the log")
    tap.like(err, "timed out", "as timed out")
    out, err, secs, reached = run(["-t", "2", "-r", "dead.test", "-r", "fast1.test"], dns, "127.0.0.2")
    tap.ok(not reached, "dead list, client listed by another: blocked")
    tap.like(out, "451 4.7.1 listed here", "by the list that answered")

    # hostile TXT: CR/LF must not make a second reply, other bytes neutralised
    out, err, secs, reached = run(["-b", "-r", "bad.test"], dns, "127.0.0.2", data=b"MAIL FROM:<a@x.test>\r\nQUIT\r\n")
    lines = out.split("\r\n")
    tap.is_(lines[1] if len(lines) > 1 else None, "553 5.7.1 bad??250 2.0.0 ok??zero?byte ?",
            "TXT with CR LF, NUL and 8-bit bytes becomes one clean reply line")
    tap.ok(not any(l.startswith("250 2.0.0 ok") for l in lines), "no injected reply")
    tap.is_(len([l for l in err.splitlines() if "info:" in l]), 1, "one log line")
    dns.close()


tap.main(main)
