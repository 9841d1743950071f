#!/usr/bin/env python3
"""tern-tlsd: implicit TLS and STARTTLS (UCSPI-TLS) with real clients, timeouts,
failures, and what the application can and cannot see."""
import os
import socket
import ssl
import subprocess
import sys
import time

import tap
import tern
from terntls import Acceptor, client_context, make_cert

# The application: says hello with what its environment tells about TLS, then
# echoes lines. On "STARTTLS" (plaintext) it asks tern-tlsd for TLS over
# SSLCTLFD ('Y', or 'y' for "no information"), then talks over SSLREADFD /
# SSLWRITEFD. It reads one byte at a time so it never reads past STARTTLS.
APP = r'''
import os, sys
def readline(fd):
    b = b""
    while not b.endswith(b"\n"):
        c = os.read(fd, 1)
        if not c:
            return b
        b += c
    return b
def env(n):
    return os.environ.get(n, "-")
rfd, wfd = 0, 1
os.write(wfd, ("hello proto=%s cipher=%s ctl=%s uid=%d ppid-uid=%s\n" % (env("SSL_PROTOCOL"), env("SSL_CIPHER"),
         env("SSLCTLFD"), os.getuid(), [l.split()[1] for l in open("/proc/%d/status" % os.getppid()) if l.startswith("Uid:")][0])).encode())
while True:
    l = readline(rfd)
    if not l:
        sys.exit(7)
    cmd = l.strip()
    if cmd in (b"STARTTLS", b"STARTTLS-QUIET") and rfd == 0:
        os.write(1, b"go ahead\n")
        ctl = int(os.environ["SSLCTLFD"])
        os.write(ctl, b"y" if cmd == b"STARTTLS-QUIET" else b"Y")
        info = b""
        if cmd == b"STARTTLS":
            while not info.endswith(b"\0\0"):
                c = os.read(ctl, 1)
                if not c:
                    sys.exit(9)
                info += c
        rfd, wfd = int(os.environ["SSLREADFD"]), int(os.environ["SSLWRITEFD"])
        os.write(wfd, b"tls on " + info.replace(b"\0", b" ").strip() + b"\n")
    elif cmd == b"KEY":
        try:
            open(sys.argv[1]).read()
            os.write(wfd, b"key readable\n")
        except OSError as e:
            os.write(wfd, b"key unreadable\n")
    elif cmd == b"QUIT":
        os.write(wfd, b"bye\n")
        sys.exit(0)
    else:
        os.write(wfd, b"echo " + cmd + b"\n")
'''


def recvline(s):
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            break
        b += c
    return b.decode()


def main():
    d = tern.tmpdir()
    key, cert = make_cert(d, "ec")
    rkey, rcert = make_cert(d, "rsa")
    app = os.path.join(d, "app.py")
    with open(app, "w") as f:
        f.write(APP)
    tlsd = tern.prog("tern-tlsd")
    ctx = client_context()

    # Implicit TLS, EC key: the application learns the protocol and cipher from its environment.
    imp = Acceptor([tlsd, "-i", "-t", "5", "-k", key, "-c", cert, sys.executable, app, key])
    with socket.create_connection(("127.0.0.1", imp.port), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            hello = recvline(t)
            like(hello, "proto=TLSv1.2 cipher=%s ctl=-" % t.cipher()[0], "implicit: application sees SSL_PROTOCOL and SSL_CIPHER, no SSLCTLFD")
            tap.is_(t.version(), "TLSv1.2", "implicit: TLS 1.2 negotiated")
            t.sendall(b"ping\n")
            tap.is_(recvline(t), "echo ping\n", "implicit: data relayed both ways")
            t.sendall(b"x" * 100000 + b"\n")
            tap.is_(len(recvline(t)), 100006, "implicit: a 100 kB line crosses intact")
            t.sendall(b"QUIT\n")
            tap.is_(recvline(t), "bye\n", "implicit: last words before the application exits")
            tap.is_(t.recv(10), b"", "implicit: clean close (close_notify) after the application exits")
    tap.is_(imp.wait_all(1), [0], "implicit: tern-tlsd exits with the application's status")

    # RSA key and certificate.
    rsa = Acceptor([tlsd, "-i", "-k", rkey, "-c", rcert, sys.executable, app, key])
    with socket.create_connection(("127.0.0.1", rsa.port), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            like(recvline(t), "cipher=ECDHE-RSA-", "RSA key: an ECDHE-RSA suite")

    # STARTTLS over UCSPI-TLS.
    st = Acceptor([tlsd, "-k", key, "-c", cert, sys.executable, app, key])
    with socket.create_connection(("127.0.0.1", st.port), timeout=10) as s:
        like(recvline(s), "proto=- cipher=-", "starttls: plaintext first, no SSL_* variables")
        s.sendall(b"hi\n")
        tap.is_(recvline(s), "echo hi\n", "starttls: plaintext dialogue on fds 0/1")
        s.sendall(b"STARTTLS\n")
        tap.is_(recvline(s), "go ahead\n", "starttls: go-ahead in plaintext")
        with ctx.wrap_socket(s) as t:
            line = recvline(t)
            like(line, "tls on SSL_PROTOCOL=TLSv1.2 SSL_CIPHER=%s" % t.cipher()[0], "starttls: 'Y' gets SSL_PROTOCOL and SSL_CIPHER back")
            t.sendall(b"after\n")
            tap.is_(recvline(t), "echo after\n", "starttls: relayed after the handshake")
            t.sendall(b"QUIT\n")
            tap.is_(recvline(t), "bye\n", "starttls: application ends the session")

    with socket.create_connection(("127.0.0.1", st.port), timeout=10) as s:
        recvline(s)
        s.sendall(b"STARTTLS-QUIET\n")
        recvline(s)
        with ctx.wrap_socket(s) as t:
            tap.is_(recvline(t), "tls on \n", "starttls: 'y' starts TLS without the information block")

    # A client that closes cleanly: the application sees end of file.
    with socket.create_connection(("127.0.0.1", st.port), timeout=10) as s:
        recvline(s)
        s.sendall(b"STARTTLS\n")
        recvline(s)
        t = ctx.wrap_socket(s)
        recvline(t)
        t.unwrap()
    tap.is_(st.wait_all(3)[-1], 7, "client close_notify: the application reads end of file")

    # A client that only speaks TLS 1.3: a clear failure in the log, no hang.
    ctx13 = client_context(minimum=ssl.TLSVersion.TLSv1_3)
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", imp.port), timeout=10) as s:
            with ctx13.wrap_socket(s) as t:
                t.recv(10)
        refused = False
    except (ssl.SSLError, OSError):
        refused = True
    tap.ok(refused and time.monotonic() - t0 < 8, "TLS 1.3-only client refused at once")
    # the acceptor thread may not have recorded the process yet: wait for the line itself
    tern.wait_for(lambda: "TLS 1.3-only client" in imp.logtext(), 10)
    like(imp.logtext(), "TLS 1.3-only client", "TLS 1.3-only: the log says why")

    # Handshake timeout: a client that never says anything.
    slow = Acceptor([tlsd, "-i", "-t", "1", "-k", key, "-c", cert, sys.executable, app, key])
    with socket.create_connection(("127.0.0.1", slow.port), timeout=10) as s:
        t0 = time.monotonic()
        data = s.recv(10)
        tap.ok(data == b"" and time.monotonic() - t0 < 8, "handshake timeout: connection closed")
    tap.is_(slow.wait_all(1), [111], "handshake timeout: exit 111, application never ran")
    like(slow.logtext(), "TLS handshake with 127.0.0.1 failed: timed out", "handshake timeout: logged")

    # A plaintext client on the implicit port.
    with socket.create_connection(("127.0.0.1", slow.port), timeout=10) as s:
        s.sendall(b"EHLO me\r\n")
        tap.is_(s.recv(100), b"", "plaintext on the TLS port: dropped")
    slow.wait_all(2)

    # Configuration errors: the application is never started.
    marker = os.path.join(d, "ran")
    bad = os.path.join(d, "bad.pem")
    with open(bad, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n")
    for args, want, name in ((["-k", bad, "-c", cert], "bad private key in", "a corrupt key"),
                             (["-k", os.path.join(d, "none"), "-c", cert], "unable to read the private key", "a missing key"),
                             (["-k", key, "-c", key], "no certificate in the file", "no certificate"),
                             (["-k", rkey, "-c", cert], "does not match", "an RSA key with an EC certificate")):
        r = subprocess.run([tlsd, "-i"] + args + ["touch", marker], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10)
        tap.ok(r.returncode == 111 and want in r.stderr.decode() and not os.path.exists(marker),
               "%s: exit 111, says so, application not run" % name, r.stderr.decode())
    r = subprocess.run([tlsd, "-i", "-k", key], stderr=subprocess.PIPE, timeout=10)
    tap.is_(r.returncode, 100, "usage error: exit 100")

    # Privileges: the engine drops to TLS_UID/TLS_GID; the application, dropped
    # in the chain, cannot read the key.
    if os.getuid() != 0:
        tap.note("not root: privilege tests skipped")
        return
    os.chmod(d, 0o755)
    os.chmod(app, 0o644)
    os.chown(key, 65534, 65534)
    os.chmod(key, 0o400)
    # the system's python: the one running this test may live in root's home
    priv = Acceptor([tlsd, "-i", "-k", key, "-c", cert, "s6-applyuidgid", "-u", "1", "-g", "1", "/usr/bin/python3", app, key],
                    env={"TLS_UID": "65534", "TLS_GID": "65534"})
    with socket.create_connection(("127.0.0.1", priv.port), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            like(recvline(t), "uid=1 ppid-uid=65534", "root: engine runs as TLS_UID, application as its own user")
            t.sendall(b"KEY\n")
            tap.is_(recvline(t), "key unreadable\n", "root: the application cannot read the key")
    tap.ok("running the TLS engine as root" not in priv.logtext(), "root: no warning when TLS_UID is set")


def like(got, needle, name):
    return tap.like(got, needle, name)


tap.main(main)
