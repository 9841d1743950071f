#!/usr/bin/env python3
"""The launcher's and tern-smtpd's tests again in pool mode: with
TERN_TEST_POOL=1, tern.tcpserver() runs a tern-smtpd chain under
tern-tcpserver -w (tests/lib/tern.py), so every session of these tests is
served by a reused worker. Each test is one line here; its own TAP output
is shown when it fails."""
import os
import subprocess
import sys

import tap

TESTS = ["slots.t", "stress.t", "limits.t", "smtpd.t", "smtpd_greet.t", "smtpd_relay.t", "smtpd_limits.t",
         "smtpd_smuggling.t", "smtpd_queue.t", "timeouts.t", "auth_smtp.t"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, TERN_TEST_POOL="1")
    for t in TESTS:
        r = subprocess.run([sys.executable, os.path.join(here, t)], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=900)
        out = r.stdout.decode(errors="replace")
        bad = [l for l in out.splitlines() if l.startswith("not ok")]
        tap.ok(r.returncode == 0 and not bad and "1.." in out, "pool mode: " + t, out if bad or r.returncode else None)


if __name__ == "__main__":
    try:
        main()
    finally:
        tap.done()
