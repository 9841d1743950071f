#!/usr/bin/env python3
"""tern-tcpserver takes a service name as its port, as tcpserver does in
qmail admins' run scripts (`0 smtp`), from /etc/services without NSS
(issue 15); an unknown name or a bad number is refused with 100."""
import os
import socket
import subprocess

import tap
import tern


def start(port_arg):
    """tern-tcpserver -1 on 127.0.0.1 with port_arg; (proc, the first stdout line, stderr)."""
    argv = [tern.prog("tern-tcpserver"), "-1", "-B", "hello\r\n", "-u", str(os.getuid()), "-g", str(os.getgid()),
            "127.0.0.1", port_arg, "true"]
    p = tern.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode().strip()
    return p, line


def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def services_port(name):
    with open("/etc/services") as f:
        for line in f:
            w = line.split("#")[0].split()
            if len(w) >= 2 and w[1].endswith("/tcp") and name in [w[0]] + w[2:]:
                return int(w[1].split("/")[0])
    return None


def main():
    for bad, why in (("nosuchservice", "unknown service"), ("25x", "unknown service"), ("65536", "bad port"),
                     ("-", "unknown service"), ("a/b", "bad port"), ("", "bad port")):
        r = subprocess.run([tern.prog("tern-tcpserver"), "-u", str(os.getuid()), "-g", str(os.getgid()),
                            "127.0.0.1", bad, "true"], capture_output=True, text=True, timeout=20)
        tap.ok(r.returncode == 100 and why in r.stderr, "port %r refused (100, %s)" % (bad, why), r.stderr)

    # a name: a port the test may bind (privileged ones need root and a free port)
    name = "smtp"
    want = services_port(name) or 25
    if (os.getuid() != 0 and want < 1024) or not port_free(want):
        tap.note("skipping the live bind: 127.0.0.1:%d is not available" % want)
    else:
        p, line = start(name)
        tap.is_(line, str(want), "'127.0.0.1 smtp' listens on the port /etc/services gives (%d)" % want)
        try:
            with socket.create_connection(("127.0.0.1", want), timeout=10) as s:
                s.settimeout(10)
                tap.is_(s.recv(100), b"hello\r\n", "a client connects to it and gets the banner")
        finally:
            tern.stop(p)
    # numbers still work, 0 picks a free port
    p, line = start("0")
    tap.ok(line.isdigit() and int(line) > 0, "port 0: a free port, as before", line)
    tern.stop(p)


tap.main(main)
