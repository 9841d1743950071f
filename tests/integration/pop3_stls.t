#!/usr/bin/env python3
"""tern-pop3d under tern-tlsd: STLS (RFC 2595) with poplib's stls(), plaintext
injected before STLS, implicit TLS (POP3S)."""
import os
import poplib
import socket
import ssl
import subprocess
import time

import tap
import tern

USER = "alice@tern.test"


def add_user(home):
    """alice@tern.test, whom tern-checkpassword and tern-pop3d -m find in the tables."""
    return tern.add_user(home, USER, "secret")

HOST = "pop.tern.test"


def make_cert(d):
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + HOST,
                    "-addext", "subjectAltName=DNS:" + HOST + ",IP:127.0.0.1"], check=True, capture_output=True)
    return key, cert


def make_box(home):
    md = add_user(home)
    with open(os.path.join(md, "new", "1700000001.M1P1.host"), "wb") as f:
        f.write(b"Subject: secret stuff\n\nover TLS only\n")
    return md


def main():
    for p in ("tern-tlsd", "tern-checkpassword"):
        if not os.path.exists(tern.prog(p)):
            tap.skip_all("%s not built yet" % p)
    tmp = tern.tmpdir()
    home = tern.make_home()
    make_box(home)
    key, cert = make_cert(tmp)
    pop = [tern.prog("tern-pop3d"), tern.prog("tern-checkpassword"), tern.prog("tern-pop3d"), "-m"]
    env = {"TERN_HOME": home}
    ctx = ssl.create_default_context(cafile=cert)

    srv, port, log = tern.tcpserver([tern.prog("tern-tlsd"), "-t", "10", "-k", key, "-c", cert] + pop, env=env)
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    caps = p.capa()
    tap.ok("STLS" in caps and "USER" not in caps, "before TLS: CAPA offers STLS, not USER", caps)
    try:
        p.user(USER)
        tap.ok(False, "USER refused before STLS")
    except poplib.error_proto as e:
        tap.like(str(e), "STLS", "USER refused before STLS")
    tap.like(p.stls(context=ctx), b"+OK", "STLS accepted")
    tap.is_(p.sock.version(), "TLSv1.2", "TLS 1.2 negotiated, certificate verified")
    caps = p.capa()
    tap.ok("USER" in caps and "STLS" not in caps, "after TLS: USER offered, STLS not", caps)
    try:
        p._shortcmd("STLS")
        tap.ok(False, "second STLS refused")
    except poplib.error_proto:
        tap.ok(True, "second STLS refused")
    p.user(USER)
    tap.like(p.pass_("secret"), b"+OK", "login over TLS")
    tap.is_(p.stat()[0], 1, "STAT over TLS")
    resp, lines, _ = p.retr(1)
    tap.is_(lines, [b"Subject: secret stuff", b"", b"over TLS only"], "RETR over TLS")
    tap.like(p.quit(), b"+OK", "QUIT over TLS")

    # Plaintext pipelined behind STLS must never be answered: it reaches the
    # TLS engine as a broken ClientHello, and the connection ends.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.recv(4096)
    s.sendall(b"STLS\r\nCAPA\r\nUSER alice@tern.test\r\n")
    out = b""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            b = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            break
        out += b
    s.close()
    tap.ok(out.startswith(b"+OK") and b"capability" not in out and b"send PASS" not in out,
           "commands injected before the handshake are not answered", out)
    tern.stop(srv)

    # POP3S: implicit TLS, USER/PASS straight away, no STLS.
    srv, port, log = tern.tcpserver([tern.prog("tern-tlsd"), "-i", "-t", "10", "-k", key, "-c", cert] + pop, env=env)
    p = poplib.POP3_SSL("127.0.0.1", port, timeout=20, context=ctx)
    tap.like(p.getwelcome(), b"+OK", "POP3S greeting")
    caps = p.capa()
    tap.ok("USER" in caps and "STLS" not in caps, "implicit TLS: USER offered, STLS not", caps)
    p.user(USER)
    p.pass_("secret")
    tap.is_(p.stat()[0], 1, "implicit TLS: login and STAT")
    p.quit()
    tern.stop(srv)


tap.main(main)
