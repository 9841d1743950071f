#!/usr/bin/env python3
"""SMTP AUTH and STARTTLS in tern-smtpd under tern-tlsd: smtplib, swaks,
openssl s_client; plaintext refusals, failures, submission mode, implicit
TLS, and the STARTTLS injection (CVE-2011-0411)."""
import os
import smtplib
import ssl
import subprocess
import time

import tap
import tern
from smtpraw import Raw, read_log
from terntls import client_context, make_cert

PW = "correct horse"
MSG = b"Subject: auth test\r\n\r\nhello\r\n"


def instance():
    home = tern.make_home({"rcpthosts": ["tern.test"], "timeoutsmtpd": "20", "authfaildelay": "50", "authmaxfail": "3"})
    tern.make_queue(home)
    r = subprocess.run([tern.prog("tern-passwd"), "add", "joe@tern.test"], input=(PW + "\n").encode(),
                       env=dict(os.environ, TERN_HOME=home), stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr
    key, cert = make_cert(tern.tmpdir())
    return home, key, cert


def server(home, key, cert, smtpd_opts=(), tlsd_opts=(), checkprog=("tern-checkpassword", "true")):
    chain = [tern.prog("tern-tlsd")] + list(tlsd_opts) + ["-k", key, "-c", cert, tern.prog("tern-smtpd")] + list(smtpd_opts)
    chain += [tern.prog(checkprog[0]) if checkprog[0].startswith("tern-") else checkprog[0]] + list(checkprog[1:])
    _, port, log = tern.tcpserver(chain, env={"TERN_HOME": home})
    return port, log


def smtp(port):
    s = smtplib.SMTP("127.0.0.1", port, timeout=15)
    s.ehlo("client.test")
    return s


def queued(home, n):
    return tern.wait_for(lambda: len(tern.queued_messages(home)) >= n and tern.queued_messages(home), 10) or []


def plaintext_and_starttls(home, port, log):
    s = smtp(port)
    tap.ok(s.has_extn("starttls") and not s.has_extn("auth"), "EHLO in clear: STARTTLS, no AUTH")
    # smtplib's login() would refuse on its own (no AUTH in EHLO): the
    # refusal must come from the server, so the commands go out raw.
    code, text = s.docmd("AUTH", "LOGIN")
    tap.ok(code == 538 and b"5.7.11" in text and b"STARTTLS" in text, "AUTH LOGIN in clear: the server says 538 5.7.11",
           (code, text))
    code, text = s.docmd("AUTH", "PLAIN " + "AGpvZUB0ZXJuLnRlc3QAeA==")
    tap.ok(code == 538 and b"5.7.11" in text, "AUTH in clear: 538 5.7.11", text)
    tap.is_(s.docmd("RCPT TO:<x@far.example>")[0], 503, "(no MAIL yet)")
    s.mail("joe@tern.test")
    tap.is_(s.rcpt("x@far.example")[0] // 100, 5, "no relaying before AUTH")
    s.rset()
    code, text = s.starttls(context=client_context())
    tap.is_((code, text), (220, b"2.0.0 Ready to start TLS"), "STARTTLS: 220 2.0.0")
    s.ehlo("client.test")
    tap.ok(s.has_extn("auth") and "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"]
           and not s.has_extn("starttls"), "EHLO over TLS: AUTH PLAIN LOGIN, no STARTTLS")
    tap.is_(s.docmd("STARTTLS")[0], 503, "STARTTLS twice: 503")
    code, text = s.login("joe@tern.test", PW)
    tap.is_((code, text), (235, b"2.7.0 Authentication successful"), "login() after starttls(): 235 2.7.0")
    tap.is_(s.docmd("AUTH", "PLAIN AGpvZUB0ZXJuLnRlc3QAeA==")[0], 503, "AUTH twice: 503")
    tap.is_(s.sendmail("joe@tern.test", ["friend@far.example"], MSG), {}, "sendmail() relays to a foreign domain")
    s.quit()
    q = queued(home, 1)
    msg = q[0][1] if q else b""
    tap.is_(q[0][3] if q else None, ["friend@far.example"], "queued for the foreign recipient")
    tap.like(msg, b"(tern) with ESMTPSA (TLSv1.2 ECDHE-ECDSA-", "Received: ESMTPSA and the cipher")
    tap.like(msg, b"; authenticated as joe@tern.test) id ", "Received: the user")
    tap.like(read_log(log, "result=235"), "auth=PLAIN user=joe@tern.test result=235", "log: the login")
    tap.like(read_log(log, "auth=joe@tern.test from="), "auth=joe@tern.test from=<joe@tern.test> to=<friend@far.example> (ok)", "log: the message names the user")


def mechanisms(home, port):
    r = Raw(port)
    r.reply()
    r.cmd("EHLO x.test")
    r.send(b"STARTTLS\r\n")
    r.reply()
    t = client_context().wrap_socket(r.s)
    r.s, r.buf = t, b""
    tap.is_(r.cmd("AUTH PLAIN AGpvZUB0ZXJuLnRlc3QAeA==")[0], 503, "AUTH before EHLO (after STARTTLS): 503")
    r.cmd("EHLO x.test")
    tap.is_(r.cmd("AUTH CRAM-MD5")[0], 504, "unknown mechanism: 504")
    tap.is_(r.cmd("AUTH PLAIN not*base64")[0], 501, "malformed base64: 501")
    tap.is_(r.cmd("AUTH PLAIN")[0], 334, "PLAIN without initial response: 334")
    tap.is_(r.cmd("*")[0], 501, "client cancels with *: 501")
    tap.is_(r.cmd("AUTH LOGIN"), (334, b"VXNlcm5hbWU6"), "LOGIN: Username: challenge")
    tap.is_(r.cmd("am9lQHRlcm4udGVzdA=="), (334, b"UGFzc3dvcmQ6"), "LOGIN: Password: challenge")
    tap.is_(r.cmd("Y29ycmVjdCBob3JzZQ==")[0], 235, "LOGIN without initial response: 235")
    r.close()
    r = Raw(port)
    r.reply()
    r.cmd("EHLO x.test")
    r.cmd("STARTTLS")
    r.s, r.buf = client_context().wrap_socket(r.s), b""
    r.cmd("EHLO x.test")
    tap.is_(r.cmd("MAIL FROM:<joe@tern.test>")[0], 250, "(a transaction)")
    tap.is_(r.cmd("AUTH PLAIN AGpvZUB0ZXJuLnRlc3QAY29ycmVjdCBob3JzZQ==")[0], 503, "AUTH during a transaction: 503")
    r.cmd("RSET")
    tap.is_(r.cmd("AUTH PLAIN YW5uAGpvZUB0ZXJuLnRlc3QAY29ycmVjdCBob3JzZQ==")[0], 535, "authzid for someone else: 535")
    tap.is_(r.cmd("AUTH LOGIN am9lQHRlcm4udGVzdA==")[0], 334, "LOGIN with the user as initial response")
    tap.is_(r.cmd("Y29ycmVjdCBob3JzZQ==")[0], 235, "... then the password: 235")
    r.close()


def failures(port, log):
    s = smtp(port)
    s.starttls(context=client_context())
    s.ehlo("client.test")
    codes = []
    s.user = "joe@tern.test"
    for pw in ("wrong1", "wrong2", "wrong3"):
        s.password = pw
        try:
            # one mechanism per try: login() would go on to the next one
            codes.append(s.auth("PLAIN", s.auth_plain)[0])
        except smtplib.SMTPAuthenticationError as e:
            codes.append(e.smtp_code)
        except smtplib.SMTPServerDisconnected:
            codes.append("disconnected")
            break
    tap.is_(codes, [535, 535, 535], "wrong password: 535, three times")
    seen = []
    for _ in range(2):
        try:
            seen.append(s.noop()[0])
        except smtplib.SMTPServerDisconnected:
            seen.append("disconnected")
    tap.ok(seen in ([421, "disconnected"], ["disconnected", "disconnected"]),
           "after the third failure: 421 and the connection is dropped", seen)
    t = read_log(log, "result=535")
    tap.ok(t.count("user=joe@tern.test result=535") >= 3, "log: each failure")


def helper_cannot_run(home, key, cert):
    port, log = server(home, key, cert, checkprog=("/nonexistent/checkpassword", "true"))
    s = smtp(port)
    s.starttls(context=client_context())
    s.ehlo("client.test")
    try:
        s.login("joe@tern.test", PW)
        code = 235
    except smtplib.SMTPAuthenticationError as e:
        code = e.smtp_code
    tap.is_(code, 454, "checkpassword program cannot run: 454")


def submission(home, key, cert):
    port, log = server(home, key, cert, smtpd_opts=("-s",))
    s = smtp(port)
    s.starttls(context=client_context())
    s.ehlo("client.test")
    code, text = s.docmd("MAIL FROM:<joe@tern.test>")
    tap.ok(code == 530 and b"5.7.0" in text, "submission: MAIL before AUTH: 530 5.7.0", text)
    s.login("joe@tern.test", PW)
    tap.is_(s.sendmail("joe@tern.test", ["a@far.example", "b@tern.test"], MSG), {}, "submission: after AUTH, mail goes")
    s.quit()


def implicit(home, key, cert):
    port, log = server(home, key, cert, smtpd_opts=("-s",), tlsd_opts=("-i",))
    s = smtplib.SMTP_SSL("127.0.0.1", port, timeout=15, context=client_context())
    s.ehlo("client.test")
    tap.ok(s.has_extn("auth") and not s.has_extn("starttls"), "implicit TLS: AUTH offered at once, no STARTTLS")
    s.login("joe@tern.test", PW)
    before = len(tern.queued_messages(home))
    tap.is_(s.sendmail("joe@tern.test", ["implicit@far.example"], MSG), {}, "SMTP_SSL: login and sendmail on the second listener")
    s.quit()
    q = [m for m in queued(home, before + 1) if m[3] == ["implicit@far.example"]]
    tap.like(q[0][1] if q else b"", b"with ESMTPSA (TLSv1.2 ", "implicit: Received says ESMTPSA with the cipher")


def injection(port, log):
    r = Raw(port)
    r.reply()
    r.cmd("EHLO x.test")
    r.send(b"STARTTLS\r\nRSET\r\n")
    tap.is_(r.reply()[0], 220, "injection: STARTTLS answered")
    r.s = client_context().wrap_socket(r.s)
    r.buf = b""
    r.s.settimeout(1.0)
    try:
        early = r.s.recv(100)
    except (socket_timeout(), ssl.SSLError):
        early = b""
    tap.is_(early, b"", "injection: the pipelined RSET is never answered")
    r.s.settimeout(10)
    tap.is_(r.cmd("MAIL FROM:<a@b.test>")[0], 503, "after STARTTLS: MAIL needs EHLO again")
    tap.is_(r.cmd("EHLO x.test")[0], 250, "EHLO again: 250")
    tap.is_(r.cmd("RSET")[0], 250, "RSET now answered, once")
    r.close()
    tap.like(read_log(log, "after STARTTLS"), "starttls: dropped 6 bytes sent in clear after STARTTLS", "injection: logged")


def failed_handshake(port, log):
    r = Raw(port)
    r.begin()
    tap.is_(r.cmd("STARTTLS")[0], 220, "STARTTLS, then plaintext instead of a ClientHello")
    r.send(b"EHLO still.plain\r\n")
    tap.ok(r.closed(), "failed handshake: the connection ends, no plaintext reply")
    t = read_log(log, "TLS could not start")
    tap.like(t, "starttls: TLS could not start", "failed handshake: tern-smtpd says so")
    tap.like(t, "tern-tlsd: warning: TLS handshake with 127.0.0.1 failed", "failed handshake: tern-tlsd says why")


def queue_fds(home, key, cert):
    """The queue program gets the message and envelope, not the TLS fds."""
    d = tern.tmpdir()
    out = os.path.join(d, "fds")
    script = os.path.join(d, "q.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nls /proc/self/fd > %s\nexec %s\n" % (out, tern.prog("tern-queue")))
    os.chmod(script, 0o755)
    chain = [tern.prog("tern-tlsd"), "-k", key, "-c", cert, tern.prog("tern-smtpd")]
    _, port, log = tern.tcpserver(chain, env={"TERN_HOME": home, "TERNQUEUE": script})
    s = smtp(port)
    s.sendmail("a@b.test", ["joe@tern.test"], MSG)
    s.quit()
    fds = sorted(int(x) for x in open(out).read().split()) if os.path.exists(out) else None
    tap.ok(fds is not None and fds == [0, 1, 2, 3], "plaintext session: the queue program inherits no UCSPI-TLS fd", fds)


def socket_timeout():
    import socket
    return socket.timeout


def tools(port):
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:%d" % port, "-quiet",
                        "-ign_eof"], input=b"EHLO openssl.test\r\nQUIT\r\n", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    out = r.stdout.decode(errors="replace")
    tap.ok("250-AUTH PLAIN LOGIN" in out or "250 AUTH PLAIN LOGIN" in out, "openssl s_client -starttls smtp: EHLO over TLS offers AUTH", out)
    tap.like(out, "221 2.0.0", "openssl s_client: QUIT answered over TLS")
    for mech in ("PLAIN", "LOGIN"):
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--tls", "--auth", mech,
                            "--auth-user", "joe@tern.test", "--auth-password", PW, "--from", "joe@tern.test",
                            "--to", "swaks@far.example", "--helo", "swaks.test", "--timeout", "20"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = r.stdout.decode(errors="replace")
        tap.ok(r.returncode == 0 and "235 2.7.0" in out and "250 2.0.0 Ok: queued" in out,
               "swaks --tls --auth %s relays" % mech, out[-600:])


def plaintext_option(home, key, cert):
    _, port, log = tern.tcpserver([tern.prog("tern-smtpd"), "-p", tern.prog("tern-checkpassword"), "true"], env={"TERN_HOME": home})
    s = smtp(port)
    tap.ok(s.has_extn("auth") and not s.has_extn("starttls"), "-p without tern-tlsd: AUTH offered in clear, no STARTTLS")
    tap.is_(s.login("joe@tern.test", PW)[0], 235, "-p: AUTH in clear works")
    s.quit()
    s.close()
    r = Raw(port)
    r.begin()
    tap.is_(r.cmd("STARTTLS")[0], 502, "STARTTLS without tern-tlsd: 502")
    r.close()


def privileges(home, key, cert):
    """As root: the engine runs as TLS_UID, tern-smtpd (dropped in the chain)
    as another user who cannot read the key."""
    os.chown(key, 65534, 65534)
    os.chmod(key, 0o400)
    for d in (os.path.dirname(key), home):
        os.chmod(d, 0o755)
    chain = [tern.prog("tern-tlsd"), "-k", key, "-c", cert, "s6-applyuidgid", "-u", "1", "-g", "1", "-G", "",
             tern.prog("tern-smtpd")]
    _, port, log = tern.tcpserver(chain, env={"TERN_HOME": home, "TLS_UID": "65534", "TLS_GID": "65534"})
    s = smtp(port)
    tlsd = int(read_log(log, "tern-tcpserver: ok ").split("tern-tcpserver: ok ")[1].split()[0])

    def uid(pid):
        with open("/proc/%d/status" % pid) as f:
            return [int(l.split()[1]) for l in f if l.startswith("Uid:")][0]
    with open("/proc/%d/task/%d/children" % (tlsd, tlsd)) as f:
        smtpd = int(f.read().split()[0])
    tap.is_((uid(tlsd), uid(smtpd)), (65534, 1), "root: tern-tlsd runs as TLS_UID, tern-smtpd as its own user")
    r = subprocess.run(["s6-applyuidgid", "-u", "1", "-g", "1", "-G", "", "cat", key], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    tap.ok(r.returncode != 0 and not r.stdout, "root: the key is unreadable to tern-smtpd's user")
    s.starttls(context=client_context())
    tap.is_(s.ehlo("client.test")[0], 250, "root: STARTTLS works with the key read before the drop")
    s.quit()


def main():
    home, key, cert = instance()
    port, log = server(home, key, cert)
    plaintext_and_starttls(home, port, log)
    mechanisms(home, port)
    failures(port, log)
    injection(port, log)
    failed_handshake(port, log)
    tools(port)
    helper_cannot_run(home, key, cert)
    submission(home, key, cert)
    implicit(home, key, cert)
    plaintext_option(home, key, cert)
    queue_fds(home, key, cert)
    if os.getuid() == 0:
        privileges(home, key, cert)
    else:
        tap.note("not root: privilege tests skipped")


tap.main(main)
