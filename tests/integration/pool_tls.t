#!/usr/bin/env python3
"""TLS in pool mode (docs/pool.md, "TLS"): tern-tcpserver -w with a pooled
tern-tlsd worker that owns one resident tern-smtpd worker. STARTTLS on the
port 25 chain, implicit TLS (465) and submission with AUTH (587), with
Python ssl/smtplib, swaks and openssl s_client; one worker serves session
after session with nothing leaking (TLS state, AUTH, relay rights, the
envelope) in either order; plaintext pipelined after STARTTLS is dropped;
a failed handshake, a killed tern-smtpd worker and a renewed certificate."""
import base64
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess

import tap
import tern
from smtpraw import Raw, read_log
from terntls import make_cert

PW = "correct horse"


def ctx():
    c = ssl.create_default_context()
    c.check_hostname, c.verify_mode = False, ssl.CERT_NONE
    return c


def plain(user, pw):
    return base64.b64encode(("\0%s\0%s" % (user, pw)).encode()).decode()


def instance():
    home = tern.make_home({"rcpthosts": ["tern.test"], "timeoutsmtpd": "20", "authfaildelay": "0"})
    tern.make_queue(home)
    r = subprocess.run([tern.prog("tern-passwd"), "add", "joe@tern.test"], input=(PW + "\n").encode(),
                       env=dict(os.environ, TERN_HOME=home), stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr
    key, cert = make_cert(home, "ec")
    return home, key, cert


def pooled(home, key, cert, tlsflags=(), smtpd=(), opts=("-c", "1", "-k", "1", "-w", "1000")):
    chain = [tern.prog("tern-tlsd")] + list(tlsflags) + ["-k", key, "-c", cert, tern.prog("tern-smtpd")] + \
        list(smtpd) + [tern.prog("tern-checkpassword"), "true"]
    return tern.tcpserver(chain, env={"TERN_HOME": home}, opts=opts)


def ok_pids(log):
    return re.findall(r"tern-tcpserver: ok (\d+) ", read_log(log))


def children(pid):
    """The pids of pid's children (the resident tern-smtpd of a tlsd worker)."""
    try:
        with open("/proc/%s/task/%s/children" % (pid, pid)) as f:
            return f.read().split()
    except OSError:
        return []


class Tls(Raw):
    """A raw client that can switch to TLS (STARTTLS) or start in it (465)."""
    def __init__(self, port, implicit=False, timeout=10.0):
        Raw.__init__(self, port, timeout=timeout)
        if implicit:
            self.s = ctx().wrap_socket(self.s)

    def starttls(self):
        code = self.cmd("STARTTLS")[0]
        if code == 220:
            self.s = ctx().wrap_socket(self.s)
        return code


def session_tls_auth(port, n):
    r = Tls(port)
    ehlo = r.begin("client.test")
    tap.ok(b"STARTTLS" in ehlo and b"AUTH" not in ehlo, "session %d: plain EHLO offers STARTTLS, no AUTH" % n, ehlo)
    tap.is_(r.starttls(), 220, "session %d: STARTTLS" % n)
    ehlo = r.cmd("EHLO client.test")[1]
    tap.ok(b"AUTH PLAIN" in ehlo and b"STARTTLS" not in ehlo, "session %d: over TLS, AUTH offered" % n, ehlo)
    tap.is_(r.cmd("AUTH PLAIN " + plain("joe@tern.test", PW))[0], 235, "session %d: AUTH over TLS" % n)
    r.cmd("MAIL FROM:<joe@tern.test>")
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 250, "session %d: authenticated: may relay" % n)
    r.cmd("DATA")
    r.send("Subject: tls %d\r\n\r\nrelayed over tls\r\n.\r\n" % n)
    tap.is_(r.reply()[0], 250, "session %d: relayed message queued" % n)
    r.cmd("MAIL FROM:<joe@tern.test>")   # left mid-transaction
    r.cmd("RCPT TO:<y@far.example>")
    r.close()


def session_plain(port, n):
    r = Tls(port)
    ehlo = r.begin("stranger.test")
    tap.ok(b"STARTTLS" in ehlo and b"AUTH" not in ehlo, "session %d: STARTTLS offered again, no AUTH in clear" % n, ehlo)
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 503, "session %d: no envelope left over" % n)
    tap.is_(r.cmd("AUTH PLAIN " + plain("joe@tern.test", PW))[0], 538, "session %d: AUTH in clear refused (538)" % n)
    r.cmd("MAIL FROM:<s@stranger.test>")
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 553, "session %d: unauthenticated plain client refused relay (553)" % n)
    tap.is_(r.cmd("RCPT TO:<u@tern.test>")[0], 250, "session %d: local recipient accepted" % n)
    r.cmd("DATA")
    r.send("Subject: plain %d\r\n\r\nplain\r\n.\r\n" % n)
    tap.is_(r.reply()[0], 250, "session %d: local message queued" % n)
    r.cmd("QUIT")
    r.close()


def session_tls_noauth(port, n):
    r = Tls(port)
    r.begin("stranger.test")
    tap.is_(r.starttls(), 220, "session %d: STARTTLS" % n)
    r.cmd("EHLO stranger.test")
    r.cmd("MAIL FROM:<s@stranger.test>")
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 553, "session %d: TLS without AUTH: relay refused (no AUTH left)" % n)
    r.cmd("QUIT")
    r.close()


def received(home):
    out = []
    for m in tern.queued_messages(home):
        head = [l for l in m[1].split(b"\n") if l.startswith(b"Received:") or l.startswith(b"\t") or l.startswith(b" ")]
        out.append((m[3], b" ".join(head)))
    return out


def no_leaks(home, key, cert):
    _, port, log = pooled(home, key, cert)
    session_tls_auth(port, 1)
    session_plain(port, 2)
    session_tls_noauth(port, 3)
    session_plain(port, 4)
    session_tls_auth(port, 5)
    pids = ok_pids(log)
    tap.ok(len(pids) == 5 and len(set(pids)) == 1, "all five sessions ran in one tern-tlsd worker", pids)
    kids = children(pids[0]) if pids else []
    tap.ok(len(kids) == 1, "which owns one resident tern-smtpd worker", kids)
    rec = received(home)
    tap.is_(len(rec), 4, "four messages queued")
    tls = [r for r in rec if r[0] == ["x@far.example"]]
    clear = [r for r in rec if r[0] == ["u@tern.test"]]
    tap.ok(len(tls) == 2 and all(b"ESMTPSA" in h for _, h in tls), "the TLS+AUTH ones say ESMTPSA", tls)
    tap.ok(len(clear) == 2 and all(b"ESMTPS" not in h and b"ESMTPA" not in h and b"authenticated" not in h
                                   for _, h in clear), "the plain ones say neither TLS nor AUTH", clear)
    return port, log


def pipelined(port, log):
    r = Tls(port)
    r.begin("evil.test")
    r.send("STARTTLS\r\nMAIL FROM:<evil@evil.test>\r\nRCPT TO:<x@far.example>\r\n")
    tap.is_(r.reply()[0], 220, "pipelined STARTTLS: 220")
    r.s = ctx().wrap_socket(r.s)
    r.cmd("EHLO evil.test")
    tap.is_(r.cmd("RCPT TO:<x@tern.test>")[0], 503, "plaintext pipelined after STARTTLS was not carried into TLS")
    r.cmd("QUIT")
    r.close()
    tap.ok(tern.wait_for(lambda: "bytes sent in clear after STARTTLS" in read_log(log), 10), "and logged as dropped")


def clients_25(port):
    sw = shutil.which("swaks")
    if sw:
        r = subprocess.run([sw, "--server", "127.0.0.1", "--port", str(port), "--tls", "--from", "a@client.test",
                            "--to", "u@tern.test", "--helo", "client.test"], capture_output=True, timeout=60)
        tap.ok(r.returncode == 0 and b"Ready to start TLS" in r.stdout, "swaks --tls through the pooled STARTTLS",
               r.stdout[-600:])
    else:
        tap.ok(True, "# SKIP swaks not installed")
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-starttls", "smtp", "-quiet"],
                       input=b"EHLO c.test\r\nQUIT\r\n", capture_output=True, timeout=60)
    tap.ok(b"250-AUTH PLAIN LOGIN" in r.stdout or b"250 AUTH PLAIN LOGIN" in r.stdout,
           "openssl s_client -starttls smtp: AUTH offered inside TLS", r.stdout[-600:] + r.stderr[-600:])


def implicit(home, key, cert):
    _, port, log = pooled(home, key, cert, tlsflags=("-i",), smtpd=("-s",))
    r = Raw(port)   # plaintext to the TLS port: the handshake fails, the worker lives on
    r.send("EHLO x\r\n")
    r.closed()
    r.close()
    tap.ok(tern.wait_for(lambda: "TLS handshake with 127.0.0.1 failed" in read_log(log), 10),
           "465: a plaintext client fails the handshake, logged")
    import smtplib
    with smtplib.SMTP_SSL("127.0.0.1", port, context=ctx(), timeout=20) as s:
        code, ehlo = s.ehlo("client.test")
        tap.ok(b"STARTTLS" not in ehlo and b"AUTH PLAIN" in ehlo, "465: TLS from the first byte, AUTH offered", ehlo)
        tap.is_(s.login("joe@tern.test", PW)[0], 235, "465: AUTH")
        tap.is_(s.sendmail("joe@tern.test", ["x@far.example"], "Subject: smtps\r\n\r\nsmtps\r\n"), {}, "465: relayed")
    with smtplib.SMTP_SSL("127.0.0.1", port, context=ctx(), timeout=20) as s:
        s.ehlo("client.test")
        try:
            s.sendmail("a@client.test", ["u@tern.test"], "Subject: no\r\n\r\nno\r\n")
            code = 250
        except smtplib.SMTPSenderRefused as e:
            code = e.smtp_code
        tap.is_(code, 530, "465: the next session in the worker is not authenticated (530)")
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-quiet"],
                       input=b"EHLO c.test\r\nQUIT\r\n", capture_output=True, timeout=60)
    tap.like(r.stdout, b"221 ", "465: openssl s_client")
    pids = ok_pids(log)
    tap.ok(len(pids) == 4 and len(set(pids)) == 1, "465: the four sessions (one failed handshake) in one worker", pids)


def submission(home, key, cert):
    _, port, log = pooled(home, key, cert, smtpd=("-s",))
    import smtplib
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.ehlo("client.test")
        code = s.docmd("MAIL FROM:<joe@tern.test>")[0]
        tap.is_(code, 530, "587: MAIL before AUTH refused (530)")
        s.rset()
        tap.is_(s.docmd("AUTH PLAIN " + plain("joe@tern.test", PW))[0], 538, "587: AUTH before STARTTLS refused (538)")
        s.starttls(context=ctx())
        s.ehlo("client.test")
        tap.is_(s.login("joe@tern.test", PW)[0], 235, "587: AUTH after STARTTLS")
        tap.is_(s.sendmail("joe@tern.test", ["x@far.example"], "Subject: sub\r\n\r\nsub\r\n"), {}, "587: submitted")
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.starttls(context=ctx())
        s.ehlo("client.test")
        tap.is_(s.docmd("MAIL FROM:<joe@tern.test>")[0], 530, "587: the next TLS session must log in again")
    sw = shutil.which("swaks")
    if sw:
        r = subprocess.run([sw, "--server", "127.0.0.1", "--port", str(port), "--tls", "--auth", "PLAIN",
                            "--auth-user", "joe@tern.test", "--auth-password", PW, "--from", "joe@tern.test",
                            "--to", "x@far.example"], capture_output=True, timeout=60)
        tap.ok(r.returncode == 0 and b"<~  235 " in r.stdout, "587: swaks --tls --auth", r.stdout[-600:])
    else:
        tap.ok(True, "# SKIP swaks not installed")
    pids = ok_pids(log)
    tap.ok(len(set(pids)) == 1, "587: one worker served them all", pids)


def kill_smtpd(home, key, cert):
    _, port, log = pooled(home, key, cert)
    r = Tls(port)
    r.begin("client.test")
    r.starttls()
    pids = ok_pids(log)
    kids = children(pids[0]) if pids else []
    tap.ok(len(kids) == 1, "kill: the worker's tern-smtpd found", kids)
    if kids:
        os.kill(int(kids[0]), signal.SIGKILL)
    tap.ok(r.closed(), "killing the tern-smtpd worker closes its connection")
    r.close()
    tap.ok(tern.wait_for(lambda: "that connection is lost" in read_log(log), 10), "the launcher logs the lost connection")
    r = Tls(port)
    r.begin("client.test")
    tap.is_(r.starttls(), 220, "a fresh pair serves the next client")
    tap.is_(r.cmd("EHLO client.test")[0], 250, "over TLS")
    # now the engine itself, mid-session: its tern-smtpd worker goes too
    pids = ok_pids(log)
    kids = children(pids[-1]) if pids else []
    os.kill(int(pids[-1]), signal.SIGKILL)
    tap.ok(r.closed(), "killing the tern-tlsd worker closes its connection")
    r.close()
    tap.ok(tern.wait_for(lambda: kids and not os.path.exists("/proc/%s" % kids[0]), 10),
           "and its tern-smtpd worker exits (end of file on its socket)")
    r = Tls(port)
    r.begin("client.test")
    tap.is_(r.starttls(), 220, "again a fresh pair serves the next client")
    r.close()


def renewed_cert(home, key, cert):
    _, port, log = pooled(home, key, cert, tlsflags=("-i",))

    def peer():
        s = ctx().wrap_socket(socket.create_connection(("127.0.0.1", port), 10))
        der = s.getpeercert(binary_form=True)
        s.recv(100)
        s.close()
        return der
    first = peer()
    d2 = tern.tmpdir()
    k2, c2 = make_cert(d2, "ec", name="renewed.tern.test")
    shutil.copy(k2, key + ".tmp")
    shutil.copy(c2, cert + ".tmp")
    os.rename(key + ".tmp", key)
    os.rename(cert + ".tmp", cert)
    second = peer()
    tap.ok(first != second and second == ssl.PEM_cert_to_DER_cert(open(c2).read()),
           "a renewed certificate is used from the next connection, without a restart")
    tap.is_(len(set(ok_pids(log))), 1, "by the same worker")


def bad_key(home, cert):
    _, port, log = pooled(home, os.path.join(home, "missing.pem"), cert, opts=("-c", "2", "-k", "1", "-w", "10"))
    tap.ok(tern.wait_for(lambda: "unable to read the private key" in read_log(log), 10),
           "a key the worker cannot read: it says so and exits")
    tap.ok(tern.wait_for(lambda: "ended before its first session: the next spare starts in 1 s" in read_log(log), 10),
           "and the launcher waits before the next spare instead of a spawn loop")
    r = Raw(port)
    tap.ok(r.closed(), "a client gets its connection closed (no TLS engine, no service)")
    r.close()


QPROG = tern.ENV_QUEUE_PROG


def same_environment(home, key, cert):
    """The queue program's environment (tern-smtpd passes it on) is the same
    in the classic chain and pooled, for STARTTLS and for implicit TLS."""
    d = tern.tmpdir()
    qprog = os.path.join(d, "q.sh")
    with open(qprog, "w") as f:
        f.write(QPROG)
    os.chmod(qprog, 0o755)
    for tlsflags in ((), ("-i",)):
        envs = {}
        for mode, opts in (("classic", ()), ("pool", ("-k", "1", "-w", "10"))):
            out = os.path.join(d, mode + "".join(tlsflags))
            chain = [tern.prog("tern-tlsd")] + list(tlsflags) + ["-k", key, "-c", cert, tern.prog("tern-smtpd")]
            p, port, log = tern.tcpserver(chain, env={"TERN_HOME": home, "TERNQUEUE": qprog, "OUT": out}, opts=opts)
            r = Tls(port, implicit=bool(tlsflags))
            r.begin("x.test")
            if not tlsflags:
                r.starttls()
                r.cmd("EHLO x.test")
            r.cmd("MAIL FROM:<a@x.test>")
            r.cmd("RCPT TO:<u@tern.test>")
            r.cmd("DATA")
            r.send("x\r\n.\r\n")
            r.reply()
            r.close()
            tern.wait_for(lambda: os.path.exists(out), 10)
            envs[mode] = open(out).read() if os.path.exists(out) else ""
            tern.stop(p)
        what = "implicit TLS" if tlsflags else "STARTTLS"
        tap.like(envs["pool"], "SSL_PROTOCOL=TLSv1.2\n", "%s, pooled: SSL_PROTOCOL set for the queue program" % what)
        tap.ok("SSLCTLFD" not in envs["pool"] and "TERN_POOL" not in envs["pool"],
               "%s, pooled: no UCSPI-TLS descriptors or TERN_POOL left in it" % what)
        tap.is_(envs["pool"], envs["classic"], "%s: the same environment pooled and classic" % what)


def main():
    home, key, cert = instance()
    port, log = no_leaks(home, key, cert)
    pipelined(port, log)
    clients_25(port)
    home, key, cert = instance()
    implicit(home, key, cert)
    submission(home, key, cert)
    kill_smtpd(home, key, cert)
    renewed_cert(home, key, cert)
    bad_key(home, cert)
    same_environment(home, key, cert)


if __name__ == "__main__":
    tap.main(main)
