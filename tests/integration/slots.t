#!/usr/bin/env python3
"""Slot exhaustion (issue 20, section 4) with the defaults tern-setup writes
(tern-tcpserver -c 40 -C 10 tern-smtpd, timeoutsmtpd 1200 s):

- four addresses (127.0.0.2-5) holding ten idle connections each, and
  reconnecting whenever one is closed, do not keep a fifth client
  (127.0.0.6) from being served within seconds: the last connections are
  accepted under stress (TERN_STRESS=1) and get the short timeout;
- a whole IPv6 /64 (40 addresses) is one client for -C, so it holds ten
  slots, not forty, and a client from another /64 is served at once
  (in a private network namespace: needs root, skipped otherwise)."""
import ctypes
import os
import socket
import subprocess
import threading
import time

import tap
import tern

STRESS_TIMEOUT = 3   # control/timeoutsmtpdstress: keeps the test short
BOUND = 60           # generous bound on any wait; no timing is asserted


def readlog(log):
    with open(log, errors="replace") as f:
        return f.read()


def greeting(s):
    """The first line the server sends, b"" when it closes first, None when
    it says nothing within the socket's timeout."""
    f = s.makefile("rb")
    try:
        return f.readline()
    except socket.timeout:
        return None
    except OSError:
        return b""


def connect(src, host, port, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(BOUND)
    s.bind((src, 0))
    s.connect((host, port))
    return s


class Holder:
    """Keeps n idle connections from src open, opening a new one whenever
    the server closes one (an attacker keeping its slots), until stop()."""

    def __init__(self, src, host, port, n):
        self.src, self.host, self.port, self.n = src, host, port, n
        self.stopped = False
        self.greeted = 0
        self.closed = 0
        self.socks = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.hold, daemon=True) for _ in range(n)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def hold(self):
        for _ in range(50):   # bounded: at most 50 reconnections per thread
            if self.stopped:
                return
            try:
                s = connect(self.src, self.host, self.port)
            except OSError:
                time.sleep(0.05)
                continue
            with self.lock:
                self.socks.append(s)
            s.settimeout(None)   # idle for as long as the server lets it
            line = greeting(s)
            with self.lock:
                self.greeted += bool(line and line.startswith(b"220"))
            try:
                while not self.stopped and s.recv(4096):
                    pass   # idle: the server's 421 and its close end this
            except OSError:
                pass
            with self.lock:
                self.closed += 1
            s.close()

    def stop(self):
        self.stopped = True
        with self.lock:   # shutdown wakes the threads blocked in recv
            for s in self.socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for t in self.threads:
            t.join(10)


def session(src, host, port, family=socket.AF_INET):
    """A well-behaved client: greeting, EHLO, QUIT. Returns the replies."""
    s = connect(src, host, port, family)
    f = s.makefile("rb")
    out = [f.readline()]
    s.sendall(b"EHLO fifth.example\r\n")
    while True:
        line = f.readline()
        out.append(line)
        if not line or line[3:4] != b"-":
            break
    s.sendall(b"QUIT\r\n")
    out.append(f.readline())
    s.close()
    return out


def test_four_addresses():
    home = tern.make_home(control={"rcpthosts": "tern.test", "timeoutsmtpd": "1200",
                                   "timeoutsmtpdstress": str(STRESS_TIMEOUT)})
    p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], opts=("-c", "40", "-C", "10"),
                                  env={"TERN_HOME": home})
    holders = [Holder("127.0.0.%d" % i, "127.0.0.1", port, 10).start() for i in range(2, 6)]
    ok = tern.wait_for(lambda: sum(h.greeted for h in holders) >= 40, BOUND)
    tap.ok(ok, "four addresses hold ten idle connections each: all 40 slots busy",
           [h.greeted for h in holders])
    s = connect("127.0.0.2", "127.0.0.1", port)
    tap.is_(greeting(s), b"", "an eleventh connection from 127.0.0.2 is closed at once (-C 10)")
    s.close()
    tap.ok(tern.wait_for(lambda: "deny 127.0.0.2 per-address limit reached" in readlog(log), 10),
           "... and logged")
    result = []
    t = threading.Thread(target=lambda: result.append(session("127.0.0.6", "127.0.0.1", port)), daemon=True)
    t.start()
    t.join(BOUND)
    r = result[0] if result else []
    tap.ok(r and r[0].startswith(b"220") and r[-2].startswith(b"250 ") and r[-1].startswith(b"221"),
           "a fifth client (127.0.0.6) is greeted and served while they keep reconnecting", r)
    text = readlog(log)
    tap.like(text, "tern-tcpserver: stress: on: 32/40 connections busy",
             "tern-tcpserver logs when stress begins (at 80% of -c)")
    tap.like(text, "stress: timeout %d s (timeoutsmtpdstress; normally 1200 s)" % STRESS_TIMEOUT,
             "tern-smtpd logs the short timeout it uses under stress")
    tap.ok(sum(h.closed for h in holders) >= 1, "idle connections accepted under stress were closed")
    for h in holders:
        h.stop()
    tap.ok(tern.wait_for(lambda: "tern-tcpserver: stress: off" in readlog(log), BOUND),
           "and when it ends, once they are gone")
    tern.stop(p)


def private_netns():
    """Moves this process into a new network namespace of its own (gone
    when the process ends) with loopback up and two IPv6 /64s routed
    locally, any address of which can be bound. '' ok, else why not."""
    if os.geteuid() != 0:
        return "not root"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:   # CLONE_NEWNET
        return "unshare(CLONE_NEWNET): errno %d" % ctypes.get_errno()
    for argv in (["ip", "link", "set", "lo", "up"],
                 ["ip", "-6", "route", "add", "local", "2001:db8:20::/64", "dev", "lo"],
                 ["ip", "-6", "route", "add", "local", "2001:db8:21::/64", "dev", "lo"],
                 ["sysctl", "-qw", "net.ipv6.ip_nonlocal_bind=1"]):
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode:
            return "%s: %s" % (" ".join(argv), r.stdout.decode(errors="replace").strip())
    return ""


def test_ipv6_64():
    why = private_netns()
    if why:
        tap.ok(True, "# SKIP IPv6 /64 case: %s" % why)
        return
    home = tern.make_home(control={"rcpthosts": "tern.test"})
    server = "2001:db8:20::1"
    p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], host=server, opts=("-c", "40", "-C", "10"),
                                  env={"TERN_HOME": home})
    socks, greeted = [], 0
    for i in range(2, 42):
        s = connect("2001:db8:20::%x" % i, server, port, socket.AF_INET6)
        socks.append(s)
        greeted += bool((greeting(s) or b"").startswith(b"220"))
    tap.is_(greeted, 10, "40 addresses of one /64: ten are served, thirty closed (-C 10 counts the /64)")
    tap.ok(tern.wait_for(lambda: "per-client limit reached (2001:db8:20::/64)" in readlog(log), 10),
           "the refusals name the /64", readlog(log)[-2000:])
    result = []
    t = threading.Thread(target=lambda: result.append(session("2001:db8:21::5", server, port, socket.AF_INET6)),
                         daemon=True)
    t.start()
    t.join(BOUND)
    r = result[0] if result else []
    tap.ok(r and r[0].startswith(b"220") and r[-1].startswith(b"221"),
           "a client from another /64 is served while the first holds its ten", r)
    for s in socks:
        s.close()
    tern.stop(p)


def main():
    test_four_addresses()
    test_ipv6_64()


tap.main(main)
