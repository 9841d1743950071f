#!/usr/bin/env python3
"""tern-tcpserver end to end: rules per source address, IPv6, deny, -c, cdb replacement, SIGTERM."""
import os
import signal
import socket
import subprocess
import threading
import time

import tap
import tern

RULES = """# per-address rules
127.0.0.2:allow,RELAYCLIENT="",WHO="two"
127.0.0.3:deny
[::1]:allow,WHO="six"
127.0.0.8:allow,STALE
:allow,WHO="default"
"""


def fetch(port, src, host="127.0.0.1", send=None, timeout=10):
    """Connects from source address src, returns all bytes the server sends."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect((host, port))
        if send:
            s.sendall(send)
        data = b""
        while True:
            try:
                c = s.recv(65536)
            except ConnectionResetError:
                break
            if not c:
                break
            data += c
        return data
    finally:
        s.close()


def envof(data):
    out = {}
    for line in data.decode(errors="replace").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def readlog(log):
    with open(log) as f:
        return f.read()


def compile_rules(cdb, text, flags=()):
    return subprocess.run([tern.prog("tern-tcprules")] + list(flags) + [cdb, cdb + ".tmp"],
                          input=text.encode(), stderr=subprocess.PIPE).returncode


def test_env(port, log):
    e = envof(fetch(port, "127.0.0.2"))
    tap.is_(e.get("WHO"), "two", "127.0.0.2 gets its rule's variables")
    tap.is_(e.get("RELAYCLIENT"), "", "127.0.0.2 gets RELAYCLIENT set empty")
    tap.is_(e.get("PROTO"), "TCP", "PROTO=TCP")
    tap.is_(e.get("TCPREMOTEIP"), "127.0.0.2", "TCPREMOTEIP is the client's address")
    tap.is_(e.get("TCPLOCALIP"), "127.0.0.1", "TCPLOCALIP is the server's address")
    tap.is_(e.get("TCPLOCALPORT"), str(port), "TCPLOCALPORT is the listening port")
    tap.ok(e.get("TCPREMOTEPORT", "").isdigit(), "TCPREMOTEPORT is a number")
    tap.ok("TCPREMOTEHOST" not in e and "TCPREMOTEINFO" not in e,
           "no TCPREMOTEHOST or TCPREMOTEINFO without -h and -r (inherited ones removed)")
    e = envof(fetch(port, "127.0.0.4"))
    tap.is_(e.get("WHO"), "default", "another address gets the default rule")
    tap.ok("RELAYCLIENT" not in e, "the default rule does not set RELAYCLIENT")
    tap.is_(e.get("STALE"), "yes", "inherited variables pass through")
    tap.ok("STALE" not in envof(fetch(port, "127.0.0.8")), "a rule's ,VAR removes VAR")
    tap.is_(fetch(port, "127.0.0.3"), b"", "127.0.0.3 is denied: closed without running the program")
    ok = tern.wait_for(lambda: "deny" in readlog(log) and ":127.0.0.3:" in readlog(log), 5)
    tap.ok(ok, "the denial is logged", readlog(log))
    tap.like(readlog(log), "status: 1/40", "status lines show children and the limit")
    tap.ok(tern.wait_for(lambda: " status 100" in readlog(log), 5), "the end of the denied child is logged")


def test_ipv6(rules):
    try:
        p, port, log = tern.tcpserver(["env"], rules=rules, host="::1")
    except RuntimeError as e:
        tap.skip_all("no IPv6 loopback: %s" % e)
    e = envof(fetch(port, "::1", host="::1"))
    tap.is_(e.get("WHO"), "six", "::1 gets its IPv6 rule")
    tap.is_(e.get("TCPREMOTEIP"), "::1", "TCPREMOTEIP in IPv6 form")
    tap.is_(e.get("TCPLOCALIP"), "::1", "TCPLOCALIP in IPv6 form")
    tern.stop(p)


def test_mapped(rules):
    for host in ("::ffff:7f00:1", "::ffff:127.0.0.1"):
        p, port, log = tern.tcpserver(["env"], rules=rules, host=host)
        e = envof(fetch(port, "127.0.0.2"))
        tap.is_(e.get("WHO"), "two", "IPv4 client on an IPv6 socket (%s) gets its IPv4 rule" % host)
        tap.is_((e.get("TCPREMOTEIP"), e.get("TCPLOCALIP")), ("127.0.0.2", "127.0.0.1"), "... and IPv4 addresses")
        tap.ok(tern.wait_for(lambda: "from 127.0.0.2" in readlog(log), 5), "... also in the log")
        tern.stop(p)


def test_limit():
    n = 3
    p, port, log = tern.tcpserver(["sh", "-c", "echo start; sleep 0.3; echo done"],
                                  opts=("-c", str(n)))
    results = []

    def client():
        results.append(fetch(port, "127.0.0.1", timeout=30))
    threads = [threading.Thread(target=client) for _ in range(n + 10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    tap.is_(sum(1 for r in results if r == b"start\ndone\n"), n + 10,
            "-c %d: all %d clients at once are served in turn" % (n, n + 10))
    counts = [int(line.split("status: ")[1].split("/")[0])
              for line in readlog(log).splitlines() if "status: " in line]
    tap.is_(max(counts), n, "-c %d: never more than %d children, and the limit was reached" % (n, n))
    tern.stop(p)


def test_replace_and_broken(p, port, log):
    cdb = os.path.join(os.path.dirname(log), "rules.cdb")
    tap.is_(compile_rules(cdb, "127.0.0.2:deny\n:allow,WHO=\"new\"\n"), 0, "recompiled the rules")
    tap.is_(fetch(port, "127.0.0.2"), b"", "a replaced cdb is honoured on the next connection (deny)")
    tap.is_(envof(fetch(port, "127.0.0.4")).get("WHO"), "new", "... and its variables")
    os.unlink(cdb)
    tap.is_(fetch(port, "127.0.0.4"), b"", "a missing cdb denies")
    tap.ok(tern.wait_for(lambda: "unable to read rules" in readlog(log), 5), "... and says why in the log")
    with open(cdb, "wb") as f:
        f.write(b"\xff" * 4096)
    tap.is_(fetch(port, "127.0.0.4"), b"", "a corrupt cdb denies")


def test_missing_ok():
    d = tern.tmpdir()
    p, port, log = tern.tcpserver(["env"], opts=("-x", os.path.join(d, "none.cdb"), "-X"))
    tap.is_(envof(fetch(port, "127.0.0.1")).get("PROTO"), "TCP", "-X: a missing cdb allows")
    tern.stop(p)


def test_sigterm(p, port, log):
    os.kill(p.pid, signal.SIGTERM)
    try:
        code = p.wait(10)
    except subprocess.TimeoutExpired:
        code = None
    tap.is_(code, 0, "SIGTERM ends tern-tcpserver with status 0")
    tap.ok(not tern.can_connect("127.0.0.1", port), "the port is closed after SIGTERM")
    tap.like(readlog(log), "exiting on SIGTERM", "the exit is logged")


def test_sigterm_running():
    p, port, log = tern.tcpserver(["sh", "-c", "echo start; read x; echo done"])
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    tap.is_(c.recv(100), b"start\n", "a session is running")
    os.kill(p.pid, signal.SIGTERM)
    try:
        code = p.wait(10)
    except subprocess.TimeoutExpired:
        code = None
    tap.is_(code, 0, "SIGTERM with a session running: tern-tcpserver exits 0 at once")
    c.sendall(b"go\n")
    tap.is_(c.recv(100), b"done\n", "... and the running session finishes")
    c.close()


def test_banner_perip():
    p, port, log = tern.tcpserver(["sh", "-c", "sleep 2"], opts=("-B", "hello\r\n", "-C", "1"))
    first = socket.create_connection(("127.0.0.1", port), timeout=10)
    tap.is_(first.recv(100), b"hello\r\n", "-B writes the banner first")
    tap.is_(fetch(port, "127.0.0.1"), b"", "-C 1: a second connection from the same address is closed")
    tap.ok(tern.wait_for(lambda: "per-address limit" in readlog(log), 5), "... and logged")
    tap.is_(fetch(port, "127.0.0.2", timeout=10), b"hello\r\n", "-C 1: another address still gets in")
    first.close()
    tern.stop(p)


def main():
    p, port, log = tern.tcpserver(["env"], rules=RULES, env={"TCPREMOTEHOST": "stale", "TCPREMOTEINFO": "stale", "STALE": "yes"})
    test_env(port, log)
    test_replace_and_broken(p, port, log)
    test_sigterm(p, port, log)
    test_mapped(RULES)
    test_limit()
    test_missing_ok()
    test_banner_perip()
    test_sigterm_running()
    test_ipv6(RULES)


tap.main(main)
