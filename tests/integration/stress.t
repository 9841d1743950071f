#!/usr/bin/env python3
"""Stress (issue 20, section 4): tern-tcpserver marks the connections it
accepts while -S% of its -c slots are busy with TERN_STRESS=1 (and only
those: an inherited value is removed), logs when stress begins and ends;
the programs that wait on a stranger then use their short timeouts:
tern-smtpd (control/timeoutsmtpdstress, default 10 s, logged), tern-rblsmtpd
(-s), tern-pop3d before login (-s), tern-tlsd's handshake (-s)."""
import os
import socket

import tap
import tern
import terntls

BOUND = 30   # generous: a short timeout must have struck by then


def readlog(log):
    with open(log, errors="replace") as f:
        return f.read()


def conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    return s, s.makefile("rb")


def until_closed(f):
    """Everything the server says until it closes, or None on no close."""
    out = b""
    try:
        while True:
            line = f.readline()
            if not line:
                return out
            out += line
    except socket.timeout:
        return None


def test_marking():
    prog = ["sh", "-c", 'echo "S=${TERN_STRESS-unset}"; exec cat >/dev/null']
    p, port, log = tern.tcpserver(prog, opts=("-c", "5"), env={"TERN_STRESS": "1"})
    held, seen = [], []
    for _ in range(5):
        s, f = conn(port)
        held.append(s)
        seen.append(f.readline().strip().decode())
    tap.is_(seen, ["S=unset"] * 3 + ["S=1"] * 2,
            "-c 5 (-S 80): connections 1-3 get no TERN_STRESS (the inherited one is removed), 4 and 5 get TERN_STRESS=1")
    tap.ok(tern.wait_for(lambda: "tern-tcpserver: stress: on: 4/5 connections busy" in readlog(log), 10),
           "stress begins with the fourth: logged", readlog(log))
    for s in held:
        s.close()
    tap.ok(tern.wait_for(lambda: "tern-tcpserver: stress: off: 2/5 connections busy" in readlog(log), BOUND),
           "and ends under 70%: logged", readlog(log))
    tern.stop(p)
    p, port, log = tern.tcpserver(prog, opts=("-c", "5", "-S", "0"))
    held, seen = [], []
    for _ in range(5):
        s, f = conn(port)
        held.append(s)
        seen.append(f.readline().strip().decode())
    tap.is_(seen, ["S=unset"] * 5, "-S 0: never stress")
    for s in held:
        s.close()
    tern.stop(p)


def test_smtpd():
    home = tern.make_home(control={"rcpthosts": "tern.test"})
    p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], opts=("-S", "1"), env={"TERN_HOME": home})
    s, f = conn(port)
    tap.like(f.readline(), b"220 ", "under stress (-S 1: from the first connection) tern-smtpd greets")
    tap.ok(tern.wait_for(lambda: "stress: timeout 10 s (timeoutsmtpdstress; normally 1200 s)" in readlog(log), 10),
           "and logs the short timeout: 10 s by default", readlog(log))
    s.close()
    with open(os.path.join(home, "control", "timeoutsmtpdstress"), "w") as c:
        c.write("1\n")
    calm, calmport, calmlog = tern.tcpserver([tern.prog("tern-smtpd")], env={"TERN_HOME": home})
    c, cf = conn(calmport)
    tap.like(cf.readline(), b"220 ", "a session without stress, opened first")
    s, f = conn(port)
    f.readline()
    s.sendall(b"EHLO client.example\r\n")
    while f.readline()[3:4] == b"-":
        pass
    tap.like(until_closed(f), b"421 4.4.2 Timeout", "control/timeoutsmtpdstress 1: an idle session under stress is closed (421)")
    s.close()
    c.sendall(b"NOOP\r\n")
    tap.like(cf.readline(), b"250 ", "while the one without stress, idle longer, is still served (timeoutsmtpd 1200)")
    tap.ok("stress:" not in readlog(calmlog), "and logged nothing about stress")
    c.close()
    tern.stop(p)
    tern.stop(calm)


def test_rblsmtpd():
    p, port, log = tern.tcpserver([tern.prog("tern-rblsmtpd"), "-t", "60", "-s", "1", "true"],
                                  opts=("-S", "1"), env={"RBLSMTPD": "-listed here"})
    s, f = conn(port)
    tap.like(f.readline(), b"220 rblsmtpd.local ESMTP", "tern-rblsmtpd's greeting says ESMTP")
    tap.like(until_closed(f), b"421 4.4.2 rblsmtpd.local time limit reached",
             "under stress its refusing dialogue ends at -s (1 s), not -t (60 s)")
    s.close()
    tern.stop(p)


def test_pop3d():
    home = tern.make_home()
    p, port, log = tern.tcpserver([tern.prog("tern-pop3d"), "-P", "-s", "1", "true"], opts=("-S", "1"),
                                  env={"TERN_HOME": home})
    s, f = conn(port)
    tap.like(f.readline(), b"+OK", "tern-pop3d greets")
    tap.like(until_closed(f), b"-ERR autologout: timeout", "under stress it logs an idle client out at -s (1 s), not -t (600 s)")
    s.close()
    tern.stop(p)


def test_tlsd():
    d = tern.tmpdir()
    key, cert = terntls.make_cert(d)
    p, port, log = tern.tcpserver([tern.prog("tern-tlsd"), "-i", "-t", "60", "-s", "1", "-k", key, "-c", cert, "cat"],
                                  opts=("-S", "1"))
    s, f = conn(port)
    tap.is_(until_closed(f), b"", "under stress tern-tlsd drops a client that does not start its handshake after -s (1 s)")
    tap.ok(tern.wait_for(lambda: "failed: timed out" in readlog(log), 10), "and logs the timeout", readlog(log))
    s.close()
    tern.stop(p)


def main():
    test_marking()
    test_smtpd()
    test_rblsmtpd()
    test_pop3d()
    test_tlsd()


tap.main(main)
