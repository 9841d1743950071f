#!/usr/bin/env python3
"""tern-tcpserver -h/-p (reverse lookups via dnsmasq), =host rules, -l, -r (ident), -B/-D/-o options."""
import os
import socket
import threading

import tap
import tern


def fetch(port, src, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(15)
    try:
        s.bind((src, 0))
        s.connect((host, port))
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                return data
            data += c
    finally:
        s.close()


def envof(data):
    return dict(l.split("=", 1) for l in data.decode(errors="replace").splitlines() if "=" in l)


def readlog(log):
    with open(log) as f:
        return f.read()


def test_h(dnsenv):
    p, port, log = tern.tcpserver(["env"], env=dnsenv, opts=("-h", "-l", "mx.tern.test", "-t", "5"))
    e = envof(fetch(port, "127.0.0.2"))
    tap.is_(e.get("TCPREMOTEHOST"), "named.test", "-h: TCPREMOTEHOST from the PTR record")
    tap.is_(e.get("TCPLOCALHOST"), "mx.tern.test", "-l: TCPLOCALHOST")
    e = envof(fetch(port, "127.0.0.3"))
    tap.is_(e.get("TCPREMOTEHOST"), "liar.test", "-h without -p: the PTR name even when it does not map back")
    e = envof(fetch(port, "127.0.0.4"))
    tap.ok("TCPREMOTEHOST" not in e, "-h: no PTR record, no TCPREMOTEHOST")
    tap.ok(tern.wait_for(lambda: "named.test:127.0.0.2:" in readlog(log), 5), "the ok line carries the host name")
    tern.stop(p)
    p, port, log = tern.tcpserver(["env"], env=dnsenv, opts=("-h", "-p", "-t", "5"))
    tap.is_(envof(fetch(port, "127.0.0.2")).get("TCPREMOTEHOST"), "named.test", "-p: a name that maps back is kept")
    tap.ok("TCPREMOTEHOST" not in envof(fetch(port, "127.0.0.3")), "-p: a name that does not map back is dropped")
    tern.stop(p)


def test_host_rules(dnsenv):
    rules = ('=named.test:allow,WHO="byname"\n=.evil.test:deny\n127.0.0.6:allow,WHO="byaddr"\n'
             '=liar.test:allow,WHO="liar"\n:allow,WHO="default"\n')
    p, port, log = tern.tcpserver(["env"], rules=rules, env=dnsenv, opts=("-t", "5"))
    e = envof(fetch(port, "127.0.0.2"))
    tap.is_(e.get("WHO"), "byname", "=host rule matches without -h (the rules ask for the name)")
    tap.ok("TCPREMOTEHOST" not in e, "... but TCPREMOTEHOST is set only with -h")
    tap.is_(fetch(port, "127.0.0.5"), b"", "=.suffix deny rule (PTR x.evil.test)")
    tap.is_(envof(fetch(port, "127.0.0.6")).get("WHO"), "byaddr", "exact address rule")
    tap.is_(envof(fetch(port, "127.0.0.3")).get("WHO"), "default",
            "a PTR name that does not map back never matches =host rules (even without -p)")
    tap.is_(envof(fetch(port, "127.0.0.4")).get("WHO"), "default", "no name: default")
    tern.stop(p)
    p, port, log = tern.tcpserver(["env"], rules="127.0.0.2:allow,WHO=\"ip\"\n:deny\n",
                                  env={"TERN_DNS": "127.0.0.1:1"}, opts=("-t", "1"))
    tap.is_(envof(fetch(port, "127.0.0.2")).get("WHO"), "ip",
            "no host rules: no lookup is made (a dead DNS server costs nothing)")
    tern.stop(p)


def fake_identd(addr, answer):
    """Answers one ident query on addr:113 with answer; returns the thread."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 113))
    s.listen(4)
    s.settimeout(15)
    got = []

    def serve():
        try:
            c, _ = s.accept()
            q = c.recv(100).decode()
            got.append(q)
            ports = q.strip()
            c.sendall((ports + " : " + answer + "\r\n").encode())
            c.close()
        except OSError:
            pass
        s.close()
    t = threading.Thread(target=serve)
    t.start()
    return t, got


def test_ident():
    if os.geteuid() != 0:
        tap.ok(True, "# SKIP -r needs port 113 (root)")
        return
    try:
        t, got = fake_identd("127.0.0.7", "USERID : UNIX : alice")
    except OSError as e:
        tap.ok(True, "# SKIP cannot listen on 127.0.0.7:113: %s" % e)
        return
    p, port, log = tern.tcpserver(["env"], opts=("-r", "-t", "5"))
    e = envof(fetch(port, "127.0.0.7"))
    t.join(20)
    tap.is_(e.get("TCPREMOTEINFO"), "alice", "-r: TCPREMOTEINFO from the client's identd")
    tap.ok(got and got[0].strip().endswith(", %d" % port), "the query names the connection's ports", got)
    t, got = fake_identd("127.0.0.7", "USERID : UNIX : ev:il name")
    e = envof(fetch(port, "127.0.0.7"))
    t.join(20)
    tap.ok("TCPREMOTEINFO" not in e, "-r: an answer with odd bytes is dropped")
    tern.stop(p)


def test_misc():
    import subprocess
    p, port, log = tern.tcpserver(["env"], opts=("-D", "-o", "-b", "300", "-c", "2"))
    tap.is_(envof(fetch(port, "127.0.0.1")).get("PROTO"), "TCP", "-D -o -b 300 -c 2 are accepted and serve")
    tern.stop(p)
    d = tern.tmpdir()
    missing = os.path.join(d, "none.cdb")
    p, port, log = tern.tcpserver(["env"], opts=("-Q", "-x", missing))
    tap.is_(fetch(port, "127.0.0.1"), b"", "-Q: still denies without rules")
    tap.ok(tern.wait_for(lambda: "unable to read rules" in readlog(log), 5), "-Q: errors are logged")
    tap.ok(" ok " not in readlog(log) and "status:" not in readlog(log), "-Q: no status lines", readlog(log))
    tern.stop(p)
    p, port, log = tern.tcpserver(["env"], opts=("-q", "-x", missing))
    fetch(port, "127.0.0.1")
    tern.stop(p)
    tap.is_(readlog(log), "", "-q: nothing logged")
    ids = {"UID": str(os.getuid()), "GID": str(os.getgid())}
    p, port, log = tern.tcpserver(["env"], env=ids, opts=("-U",))
    tap.is_(envof(fetch(port, "127.0.0.1")).get("PROTO"), "TCP", "-U takes ids from $UID/$GID")
    tern.stop(p)
    env = dict(os.environ)
    env.pop("UID", None)
    r = subprocess.run([tern.prog("tern-tcpserver"), "-U", "127.0.0.1", "0", "true"], env=env,
                       stderr=subprocess.PIPE, timeout=10)
    tap.is_(r.returncode, 100, "-U without $UID: exit 100")
    r = subprocess.run([tern.prog("tern-tcpserver"), "-Z", "127.0.0.1", "0", "true"], stderr=subprocess.PIPE, timeout=10)
    tap.ok(r.returncode == 100 and b"usage" in r.stderr, "unknown option: usage, exit 100")
    r = subprocess.run([tern.prog("tern-tcpserver"), "-u", str(os.getuid()), "localhost", "0", "true"],
                       stderr=subprocess.PIPE, timeout=10)
    tap.is_(r.returncode, 100, "a host that is not an address: exit 100")


def test_privileges():
    import subprocess
    if os.geteuid() != 0:
        tap.ok(True, "# SKIP privilege drop needs root")
        return
    p = subprocess.run([tern.prog("tern-tcpserver"), "127.0.0.1", "0", "true"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    tap.ok(p.returncode == 100 and b"refusing to run client programs as root" in p.stderr,
           "as root without -u: refused", p.stderr)
    p, port, log = tern.tcpserver(["id"], opts=("-u", "65534", "-g", "65534"))
    out = fetch(port, "127.0.0.1").decode()
    tap.ok(out.startswith("uid=65534") and "gid=65534" in out and "(root)" not in out and "groups=65534" in out,
           "-u/-g: the client program runs as that user, group and no other group", out)
    tern.stop(p)


def main():
    dns, addr = tern.dnsmasq(["--host-record=named.test,127.0.0.2",
                              "--ptr-record=3.0.0.127.in-addr.arpa,liar.test",
                              "--host-record=x.evil.test,127.0.0.5"],
                             domains=("test", "in-addr.arpa"))
    dnsenv = {"TERN_DNS": addr}
    test_h(dnsenv)
    test_host_rules(dnsenv)
    test_ident()
    test_misc()
    test_privileges()


tap.main(main)
