#!/usr/bin/env python3
"""Port 25 of the instance tern-setup makes (issue 20, sections 4 and 5):
its run script, run as is, offers STARTTLS with the instance's
certificate (tern-tlsd in front, STARTTLS mode), greets `220 HOST ESMTP`
after its GREETDELAY pause and drops a client that talks first; from
outside (127.0.0.2, which the rules do not trust) nmap's smtp-open-relay
finds no open relay and ssl-enum-ciphers grades the STARTTLS suites A."""
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess

import tap
import tern
from demo import tls_context

HOST = "mail.tern.test"


def setup(extra=()):
    d = os.path.join(tern.tmpdir("tern-setup-"), "inst")
    port = tern.free_port()
    others = ["-p", "submission=%d" % tern.free_port(), "-p", "smtps=%d" % tern.free_port(),
              "-p", "pop3=%d" % tern.free_port(), "-p", "pop3s=%d" % tern.free_port()]
    r = subprocess.run([tern.prog("tern-setup"), "-i", "127.0.0.1", "-g", "100", "-p", "smtp=%d" % port] + others
                       + list(extra) + [d],
                       capture_output=True, text=True, timeout=60)
    tap.ok(r.returncode == 0, "tern-setup -g 100 makes an instance", r.stderr)
    return d, port


def readlog(log):
    with open(log, errors="replace") as f:
        return f.read()


def test_smtp(d, port):
    run = open(os.path.join(d, "service", "smtp", "run")).read()
    tap.like(run, "-w 1000 -k 4 ", "port 25 is pooled by default (tern-tcpserver -w)")
    tap.like(run, "tern-tlsd -k \"$TERN_HOME/tls/key.pem\" -c \"$TERN_HOME/tls/cert.pem\" \\\n  tern-smtpd -P",
             "the smtp run script puts tern-tlsd (STARTTLS mode: no -i) before the SMTP worker")
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0)) as c:
        tap.like(c.ehlo("client.example")[1], b"STARTTLS", "EHLO on port 25 offers STARTTLS")
        c.starttls(context=tls_context())
        cert = c.sock.getpeercert(binary_form=True)
        with open(os.path.join(d, "tls", "cert.pem")) as f:
            pem = f.read()
        tap.is_(ssl_der(pem), cert, "with the instance's certificate (tls/cert.pem)")
        c.ehlo("client.example")
        refused = c.sendmail("sender@example.org", ["demo@tern.test"],
                             "From: sender@example.org\r\nSubject: over-tls\r\n\r\nhello\r\n")
        tap.is_(refused, {}, "a message from outside is accepted inside TLS")
    msgs = [m for m in tern.queued_messages(d) if b"over-tls" in m[1]]
    tap.ok(msgs and re.search(rb"with ESMTPS \(TLSv1.2 ECDHE-", msgs[0][1]), "and queued with a Received line saying ESMTPS",
           msgs[0][1][:400] if msgs else tern.queued_messages(d))


def ssl_der(pem):
    return ssl.PEM_cert_to_DER_cert(pem)


def test_greeting(port, log):
    s = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=("127.0.0.2", 0))
    tap.is_(s.makefile("rb").readline(), b"220 %s ESMTP\r\n" % HOST.encode(), "the greeting is 220 HOST ESMTP")
    s.close()
    s = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=("127.0.0.2", 0))
    s.sendall(b"EHLO hasty.example\r\n")
    tap.like(s.makefile("rb").readline(), b"554 5.5.1", "a client that talks before the greeting gets 554")
    s.close()
    tap.ok(tern.wait_for(lambda: "ip=127.0.0.2 early talker" in readlog(log), 10), "and is logged")


def nmap(port, script):
    svc = os.path.join(tern.tmpdir(), "services")
    with open(svc, "w") as f:   # nmap then knows the port as smtp (and scans only it)
        f.write("smtp\t%d/tcp\t0.5\n" % port)
    r = subprocess.run(["nmap", "-Pn", "-n", "-S", "127.0.0.2", "-e", "lo", "--servicedb", svc,
                        "--script", script, "127.0.0.1"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    return r.stdout.decode(errors="replace")


def test_nmap(port):
    out = nmap(port, "smtp-open-relay")
    tap.like(out, "Server doesn't seem to be an open relay, all tests failed",
             "nmap smtp-open-relay from outside: not an open relay")
    out = nmap(port, "ssl-enum-ciphers")
    tap.like(out, "least strength: A", "nmap ssl-enum-ciphers through STARTTLS on port 25: grade A")
    suites = re.findall(r"\|\s+(TLS_\w+) \(", out)
    tap.ok(suites and all(re.match(r"TLS_ECDHE_\w+_(GCM_SHA\d+|CHACHA20_POLY1305_SHA256)$", x) for x in suites),
           "only ECDHE with AES-GCM or ChaCha20-Poly1305", out)


def workers(pid, prog="tern-smtpd"):
    """The prog processes whose parent is pid (the pooled ones wait for sessions)."""
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                st = open("/proc/%s/stat" % p).read()
            except OSError:
                continue
            name, rest = st.split("(", 1)[1].rsplit(")", 1)
            if name == prog and int(rest.split()[1]) == pid:
                out.append(int(p))
    return out


def test_pooled():
    """tern-setup -P: ports 25, 587 and 465 served by pooled workers, each
    a tern-tlsd owning one tern-smtpd (docs/pool.md)."""
    d, port = setup(["-P"])
    run = open(os.path.join(d, "service", "smtp", "run")).read()
    tap.like(run, "-w 1000 -k 4", "tern-setup -P: the smtp run script starts tern-tcpserver in pool mode")
    tap.like(run, "tern-smtpd -P", "with POP-before-SMTP in-process")
    tap.like(run, "tern-tlsd -k", "and STARTTLS through a pooled tern-tlsd")
    for svc in ("submission", "smtps"):
        tap.like(open(os.path.join(d, "service", svc, "run")).read(), "-w 1000 -k 4", "%s is pooled too" % svc)
    tap.ok("-w 1000" not in open(os.path.join(d, "service", "pop3", "run")).read(), "POP3 stays classic")
    log = os.path.join(d, "smtp.log")
    with open(log, "wb") as lf:
        p = tern.spawn(["sh", "./run"], cwd=os.path.join(d, "service", "smtp"), stdout=lf, stderr=subprocess.STDOUT)
    tap.ok(tern.wait_port("127.0.0.1", port, 30), "the pooled smtp service listens", readlog(log))
    def pairs():
        tlsd = workers(p.pid, "tern-tlsd")
        return [(t, workers(t)) for t in tlsd if len(workers(t)) == 1]
    tap.ok(tern.wait_for(lambda: len(pairs()) >= 4, 10),
           "four tern-tlsd workers, each with its tern-smtpd, wait before any client", pairs())
    test_greeting(port, log)
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0)) as c:
        refused = c.sendmail("sender@example.org", ["demo@tern.test"], "From: sender@example.org\r\nSubject: pooled\r\n\r\nhi\r\n")
        tap.is_(refused, {}, "a message from outside is accepted by a pooled worker")
    tap.ok([m for m in tern.queued_messages(d) if b"Subject: pooled" in m[1]], "and queued")
    out = nmap(port, "smtp-open-relay")
    tap.like(out, "Server doesn't seem to be an open relay, all tests failed",
             "nmap smtp-open-relay against the pooled port: not an open relay")
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0)) as c:
        c.ehlo("client.example")
        tap.ok(c.has_extn("starttls"), "the pooled port 25 offers STARTTLS")
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        c.starttls(context=ctx)
        c.ehlo("client.example")
        refused = c.sendmail("sender@example.org", ["demo@tern.test"], "From: sender@example.org\r\nSubject: pooled tls\r\n\r\nhi\r\n")
        tap.is_(refused, {}, "a message over STARTTLS is accepted by a pooled worker")
    out = nmap(port, "ssl-enum-ciphers")
    tap.like(out, "least strength: A", "nmap ssl-enum-ciphers through the pooled STARTTLS: grade A")
    tern.stop(p)


def main():
    if not shutil.which("nmap"):
        tap.skip_all("nmap is not installed (./deps)")
    d, port = setup()
    log = os.path.join(d, "smtp.log")
    with open(log, "wb") as lf:
        tern.spawn(["sh", "./run"], cwd=os.path.join(d, "service", "smtp"), stdout=lf, stderr=subprocess.STDOUT)
    tap.ok(tern.wait_port("127.0.0.1", port, 30), "the smtp service listens", readlog(log))
    test_greeting(port, log)
    test_smtp(d, port)
    test_nmap(port)
    test_pooled()


tap.main(main)
