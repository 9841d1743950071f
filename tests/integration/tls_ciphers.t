#!/usr/bin/env python3
"""Cipher suites (issue 20, section 5): by default tern-tlsd offers only
forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305), for
EC and RSA keys, and nmap's ssl-enum-ciphers grades it A; tern-remote
offers the same, so a server that speaks only CBC gets no TLS from it
(opportunistic TLS then falls back to plaintext, as for any failed
handshake). control/tlsciphers and control/tlsciphersremote take a list of
names, or "legacy" for BearSSL's whole set; a bad name is refused."""
import os
import re
import shutil
import socket
import subprocess

import remotetest
import sink
import tap
import tern
import terntls

AEAD = re.compile(r"^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$")
OPENSSL_AEAD = re.compile(r"^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$")


def nmap(port):
    r = subprocess.run(["nmap", "-Pn", "-n", "--script", "ssl-enum-ciphers", "-p", str(port), "127.0.0.1"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = r.stdout.decode(errors="replace")
    suites = re.findall(r"\|\s+(TLS_\w+) \(", out)
    grade = re.search(r"least strength: (\S+)", out)
    return suites, grade.group(1) if grade else None, out


def tlsd(home, key, cert):
    return tern.tcpserver([tern.prog("tern-tlsd"), "-i", "-k", key, "-c", cert, "cat"], env={"TERN_HOME": home})


def test_server():
    d = tern.tmpdir()
    home = tern.make_home()
    for kind in ("ec", "rsa"):
        key, cert = terntls.make_cert(d, kind)
        p, port, log = tlsd(home, key, cert)
        suites, grade, out = nmap(port)
        tap.is_(grade, "A", "%s key: nmap ssl-enum-ciphers grades tern-tlsd's defaults A" % kind.upper())
        tap.ok(len(suites) == 3 and all(AEAD.match(s) for s in suites),
               "%s key: only ECDHE with AES-GCM or ChaCha20-Poly1305 is offered" % kind.upper(), out)
        tern.stop(p)
    key, cert = terntls.make_cert(d, "ec")
    ctl = os.path.join(home, "control", "tlsciphers")
    with open(ctl, "w") as f:
        f.write("legacy\n")
    p, port, log = tlsd(home, key, cert)
    suites, grade, out = nmap(port)
    tap.ok(any("CBC" in s for s in suites) and len(suites) > 3,
           "control/tlsciphers legacy: BearSSL's whole set again (CBC and all)", out)
    tern.stop(p)
    with open(ctl, "w") as f:
        f.write("# one suite, for a test\nECDHE-ECDSA-AES128-GCM-SHA256\n")
    p, port, log = tlsd(home, key, cert)
    suites, grade, out = nmap(port)
    tap.is_(suites, ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"], "control/tlsciphers with a list: exactly that")
    tern.stop(p)
    with open(ctl, "w") as f:
        f.write("ECDHE-ECDSA-AES128-GCM-SHA256\nRC4-MD5\n")
    p, port, log = tlsd(home, key, cert)
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        terntls.client_context().wrap_socket(s)
        tap.ok(False, "an unknown name in control/tlsciphers: no TLS at all")
    except (OSError, ValueError):
        tap.ok(True, "an unknown name in control/tlsciphers: no TLS at all")
    s.close()
    tap.ok(tern.wait_for(lambda: "unknown cipher suite" in open(log, errors="replace").read()
                         and "RC4-MD5" in open(log, errors="replace").read(), 10),
           "and the log names the bad line")
    tern.stop(p)


def test_client():
    d = tern.tmpdir()
    cert = sink.make_cert(d, "mx.ciphers.test")
    opts = {"127.0.0.2": {"tls": cert, "tls_ciphers": "ALL:@SECLEVEL=0"},
            "127.0.0.3": {"tls": cert, "tls_ciphers": "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"}}
    port, (offered, cbc) = remotetest.sinks(["127.0.0.2", "127.0.0.3"], opts)
    home = tern.make_home({"smtproutes": ["all.test:[127.0.0.2]", "cbc.test:[127.0.0.3]"],
                           "timeoutconnect": "30", "timeoutremote": "30"})
    env = {"TERN_SMTP_PORT": str(port)}
    recs, err, rc = remotetest.run(home, "all.test", "a@y.test", ["u@all.test"], b"Subject: t\n\nhi\n", env=env)
    tap.ok(recs and recs[0][0] == "K" and offered.wait(1) == 1 and offered.transactions[0]["tls"],
           "tern-remote delivers over TLS", (recs, err))
    got = offered.tls_shared[0] if offered.tls_shared else []
    tap.ok(got and all(OPENSSL_AEAD.match(c) for c in got),
           "tern-remote offers only ECDHE with AES-GCM or ChaCha20-Poly1305", got)
    recs, err, rc = remotetest.run(home, "cbc.test", "a@y.test", ["u@cbc.test"], b"Subject: t\n\nhi\n", env=env)
    tap.ok(cbc.tls_errors, "a server with only a CBC suite: no TLS handshake", cbc.tls_errors)
    tap.ok(recs and recs[0][0] == "K" and cbc.wait(1) == 1 and not cbc.transactions[0]["tls"],
           "(opportunistic: the message then goes in plaintext, as for any failed handshake)", (recs, err))
    with open(os.path.join(home, "control", "tlsciphersremote"), "w") as f:
        f.write("legacy\n")
    recs, err, rc = remotetest.run(home, "cbc.test", "a@y.test", ["u@cbc.test"], b"Subject: t\n\nhi\n", env=env)
    tap.ok(recs and recs[0][0] == "K" and cbc.wait(2) == 2 and cbc.transactions[1]["tls"],
           "control/tlsciphersremote legacy: TLS with that server again", (recs, err))
    with open(os.path.join(home, "control", "tlsciphersremote"), "w") as f:
        f.write("NO-SUCH-SUITE\n")
    recs, err, rc = remotetest.run(home, "all.test", "a@y.test", ["u@all.test"], b"Subject: t\n\nhi\n", env=env)
    tap.ok(recs and recs[0][0] == "Z" and "unknown cipher suite" in recs[0][1],
           "a bad control/tlsciphersremote defers the delivery and says why", recs)
    offered.stop()
    cbc.stop()


def main():
    if not shutil.which("nmap"):
        tap.skip_all("nmap is not installed (./deps)")
    test_server()
    test_client()


tap.main(main)
