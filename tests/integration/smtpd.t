#!/usr/bin/env python3
"""tern-smtpd: the dialogue, the queue file it produces, relaying with and
without RELAYCLIENT, the log line, with smtplib and swaks."""
import os
import shutil
import smtplib
import subprocess

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log


def client(port):
    """An smtplib session past EHLO and MAIL FROM:<a@b.test>."""
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    s.ehlo("x.test")
    s.mail("a@b.test")
    return s


def basics():
    home, port, log = smtpd_server()
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    code, text = s.ehlo("client.example")
    tap.is_(code, 250, "EHLO answered 250")
    for kw in (b"PIPELINING", b"SIZE 10485760", b"8BITMIME", b"ENHANCEDSTATUSCODES", b"DSN"):
        tap.like(text, kw, "EHLO advertises " + kw.decode())
    tap.is_(s.mail("sender@example.org"), (250, b"2.1.0 Sender ok"), "MAIL accepted")
    tap.is_(s.rcpt("User@TERN.test"), (250, b"2.1.5 Recipient ok"), "RCPT to the local domain accepted")
    tap.is_(s.rcpt("second@tern.test."), (250, b"2.1.5 Recipient ok"), "trailing dot accepted")
    body = b"Subject: test\r\nX-Test: 1\r\n\r\nline one\r\n.starts with a dot\r\nlast\r\n"
    code, text = s.data(body)
    tap.is_(code, 250, "DATA accepted")
    tap.like(text, b"2.0.0 Ok: queued as ", "250 says it is queued, with the ID")
    qid = text.split()[-1].decode()
    s.quit()
    q = tern.queued_messages(home)
    tap.is_(len(q), 1, "one message in the queue")
    mid, msg, sender, rcpts = q[0]
    tap.is_(mid, qid, "the queue file is named by the ID in the reply")
    tap.is_(sender, "sender@example.org", "envelope sender")
    tap.is_(rcpts, ["User@tern.test", "second@tern.test"], "envelope recipients, domain lowercased, trailing dot gone")
    hdr, _, rest = msg.partition(b"\n\t")
    tap.ok(msg.startswith(b"Received: from client.example ([127.0.0.1])\n\tby mx.tern.test (tern) with ESMTP id " + qid.encode() + b";\n\t"),
           "one Received header: HELO, IP, our name, protocol, ID", msg[:200])
    tap.ok(msg.endswith(b"\nSubject: test\nX-Test: 1\n\nline one\n.starts with a dot\nlast\n"), "body stored whole with LF line ends and dots unstuffed", msg)
    tap.ok(b"\r" not in msg, "no CR in the stored message")
    tap.is_(msg.count(b"Received:"), 1, "exactly one Received header added")
    t = read_log(log, "result=250")
    tap.like(t, "tern-smtpd: info: ip=127.0.0.1 from=<sender@example.org> to=<User@tern.test> (ok) to=<second@tern.test> (ok) bytes=", "one log line: IP, sender, recipients")
    tap.like(t, "id=%s result=250 2.0.0 Ok: queued" % qid, "log line has the queue ID and result")
    return home, port, log


def check(r, steps):
    """Sends each command and checks the reply code."""
    for line, code, name in steps:
        tap.is_(r.cmd(line)[0], code, name)


def sequence(port):
    r = Raw(port)
    tap.is_(r.reply()[0], 220, "greeting")
    check(r, [
        ("MAIL FROM:<a@b.test>", 503, "MAIL before HELO: 503"),
    ])
    tap.is_(r.cmd("HELO x.test"), (250, b"mx.tern.test"), "HELO")
    check(r, [
        ("RCPT TO:<a@tern.test>", 503, "RCPT before MAIL: 503"),
        ("DATA", 503, "DATA before MAIL: 503"),
        ("MAIL FROM:<a@b.test>", 250, "MAIL"),
        ("MAIL FROM:<a@b.test>", 503, "second MAIL: 503"),
    ])
    tap.is_(r.cmd("DATA"), (554, b"5.5.1 No valid recipients"), "DATA without recipients: 554")
    tap.is_(r.cmd("RSET"), (250, b"2.0.0 Ok"), "RSET")
    check(r, [
        ("RCPT TO:<a@tern.test>", 503, "RCPT after RSET: 503"),
        ("NOOP", 250, "NOOP"),
        ("VRFY someone", 252, "VRFY: 252"),
        ("HELP", 214, "HELP: 214"),
        ("EXPN list", 502, "EXPN: 502"),
        ("FOO bar", 500, "unknown command: 500"),
        ("HELO", 501, "HELO without a name: 501"),
        ("mail from:<a@b.test>", 250, "verbs are case-insensitive"),
        ("MAIL FROM:<a@b.test> FOO=bar", 503, "still in a transaction"),
    ])
    r.close()
    r = Raw(port)
    r.reply()
    r.cmd("EHLO x.test")
    check(r, [
        ("MAIL FROM:<a@b.test> FOO=bar", 555, "unknown MAIL parameter: 555"),
        ("MAIL FROM:<a@b.test> BODY=8BITMIME", 250, "BODY=8BITMIME accepted"),
        ("RCPT TO:<a@tern.test> FOO=bar", 555, "unknown RCPT parameter refused: 555"),
        ("RCPT TO:<>", 501, "empty recipient: 501"),
        ("RCPT TO:a@tern.test", 501, "path without angle brackets: 501"),
        ("RCPT TO:<postmaster>", 250, "<postmaster> without domain accepted (RFC 5321)"),
        ("QUIT", 221, "QUIT: 221"),
    ])
    tap.ok(r.closed(), "connection closed after QUIT")


def null_sender(home, port):
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    s.ehlo("x.test")
    tap.is_(s.mail("<>")[0], 250, "null sender accepted")
    s.rcpt("postmaster")
    code, text = s.data(b"Subject: bounce\r\n\r\nx\r\n")
    tap.is_(code, 250, "bounce queued")
    q = [m for m in tern.queued_messages(home) if m[0] == text.split()[-1].decode()]
    tap.ok(q and q[0][2] == "" and q[0][3] == ["postmaster@mx.tern.test"], "null sender stored empty; <postmaster> completed with control/me", q and q[0][2:])
    s.quit()


def relaying():
    home, port, log = smtpd_server()
    s = client(port)
    code, text = s.rcpt("victim@foreign.test")
    tap.is_(code, 553, "foreign recipient refused without RELAYCLIENT")
    tap.like(text, b"5.7.1 Relaying denied", "with 5.7.1 and a sentence")
    s.quit()
    tap.like(read_log(log, "relaying denied"), "to=<victim@foreign.test> (relaying denied)", "refusal logged with the reason")

    rules = '127.0.0.1:allow,RELAYCLIENT=""\n:deny\n'
    home, port, log = smtpd_server(rules=rules)
    s = client(port)
    tap.is_(s.rcpt("friend@foreign.test")[0], 250, "foreign recipient accepted with RELAYCLIENT")
    tap.is_(s.data(b"Subject: r\r\n\r\nx\r\n")[0], 250, "relayed message queued")
    s.quit()
    tap.is_(tern.queued_messages(home)[0][3], ["friend@foreign.test"], "queued for the foreign address")

    home, port, log = smtpd_server(rules='127.0.0.1:allow,RELAYCLIENT="@fixme"\n')
    s = client(port)
    s.rcpt("friend@foreign.test")
    s.data(b"x\r\n")
    s.quit()
    tap.is_(tern.queued_messages(home)[0][3], ["friend@foreign.test@fixme"], "RELAYCLIENT's value is appended, as qmail does")

    home, port, log = smtpd_server(control={"rcpthosts": None})
    s = client(port)
    code, text = s.rcpt("user@tern.test")
    tap.is_(code, 553, "missing rcpthosts: even our own domain is refused")
    tap.like(text, b"rcpthosts", "and the reply says why")
    s.quit()
    tap.like(read_log(log, "rcpthosts is missing"), "warning: control/rcpthosts is missing", "missing rcpthosts is logged")


def wildcards_and_mrh():
    home, port, log = smtpd_server(control={"rcpthosts": [".sub.tern.test", "Other.TEST."]})
    with open(os.path.join(home, "control", "morercpthosts"), "w") as f:
        f.write("more.test\n.deep.test\n")
    r = subprocess.run([tern.prog("tern-newmrh")], env=dict(os.environ, TERN_HOME=home))
    tap.is_(r.returncode, 0, "tern-newmrh compiles morercpthosts")
    s = client(port)
    for rcpt, want, name in [
        ("u@a.sub.tern.test", 250, ".sub.tern.test covers a subdomain"),
        ("u@A.B.SUB.tern.test", 250, "and deeper subdomains, any case"),
        ("u@sub.tern.test", 553, ".sub.tern.test does not cover sub.tern.test itself"),
        ("u@evilsub.tern.test", 553, "nor a name that only ends with the same letters"),
        ("u@other.test", 250, "rcpthosts entries are compared lowercase without trailing dot"),
        ("u@more.test", 250, "morercpthosts.cdb entry"),
        ("u@MORE.test.", 250, "morercpthosts.cdb entry, case and trailing dot"),
        ("u@x.deep.test", 250, "morercpthosts.cdb .domain entry"),
        ("u@deep.test", 553, "morercpthosts.cdb .domain does not cover the domain itself"),
        ("u@more.test.evil.test", 553, "a listed domain as a prefix is not ours"),
    ]:
        tap.is_(s.rcpt(rcpt)[0], want, name)
    s.quit()
    with open(os.path.join(home, "control", "morercpthosts"), "w") as f:
        f.write("ok.test\nbad domain\n")
    r = subprocess.run([tern.prog("tern-newmrh")], env=dict(os.environ, TERN_HOME=home), stderr=subprocess.PIPE)
    tap.is_(r.returncode, 100, "tern-newmrh refuses an invalid entry (exit 100)")
    tap.like(r.stderr, b"not a domain", "and names it")
    s = client(port)
    tap.is_(s.rcpt("u@more.test")[0], 250, "the old cdb stays in place")
    s.quit()


def swaks(home, port):
    if not shutil.which("swaks"):
        tap.ok(True, "# SKIP swaks not installed")
        return
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", "s@example.org",
                        "--to", "swaks@tern.test", "--helo", "swaks.example", "--body", "from swaks",
                        "--header", "Subject: via swaks"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    tap.is_(r.returncode, 0, "swaks sends a message")
    m = [q for q in tern.queued_messages(home) if q[3] == ["swaks@tern.test"]]
    tap.ok(m and b"Subject: via swaks\n" in m[0][1] and b"from swaks\n" in m[0][1] and m[0][2] == "s@example.org",
           "swaks's message is in the queue whole, with its envelope")
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", "s@example.org",
                        "--to", "x@foreign.test", "--quit-after", "RCPT"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    tap.like(r.stdout, b"553 5.7.1", "swaks: a foreign recipient is refused with 553 5.7.1")
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", "p@example.org",
                        "--to", "pipe@tern.test,pipe2@tern.test", "--pipeline", "--header", "Subject: pipelined",
                        "--body", "sent with PIPELINING"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    tap.is_(r.returncode, 0, "swaks --pipeline sends a message")
    m = [q for q in tern.queued_messages(home) if q[2] == "p@example.org"]
    tap.ok(len(m) == 1 and m[0][3] == ["pipe@tern.test", "pipe2@tern.test"]
           and b"Subject: pipelined\n" in m[0][1] and b"\n\nsent with PIPELINING\n" in m[0][1],
           "swaks --pipeline: the message is in the queue once, whole, with both recipients",
           [(q[0], q[2], q[3], q[1][-200:]) for q in m] or r.stdout)


def direct():
    """tern-smtpd on plain pipes, with the environment tcpserver would set.
    The whole session is written at once, so the pipelining check is off."""
    home = tern.make_home({"rcpthosts": ["tern.test"], "strictpipelining": "0"})
    tern.make_queue(home)
    env = dict(os.environ, TERN_HOME=home, TCPREMOTEIP="192.0.2.1", TCPREMOTEHOST="client.example")
    inp = (b"HELO evil(host)\x7f.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<u@tern.test>\r\nDATA\r\n"
           b"Subject: d\r\n\r\nx\r\n.\r\nQUIT\r\n")
    r = subprocess.run([tern.prog("tern-smtpd")], input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=30)
    tap.is_(r.returncode, 0, "session on pipes ends with exit 0")
    tap.like(r.stdout, b"\r\n221 ", "and QUIT answered")
    m = tern.queued_messages(home)
    tap.ok(m and m[0][1].startswith(b"Received: from evil?host??.test (client.example [192.0.2.1])\n\tby mx.tern.test (tern) with SMTP id "),
           "Received: cleaned HELO, reverse name, IP, SMTP for HELO", m and m[0][1][:120])
    os.unlink(os.path.join(home, "control", "me"))
    r = subprocess.run([tern.prog("tern-smtpd")], input=b"QUIT\r\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=30)
    tap.is_(r.returncode, 111, "control/me missing: exit 111")
    tap.like(r.stdout, b"421 4.3.5", "the client gets 421 4.3.5")
    tap.like(r.stderr, ("tern-smtpd: fatal: unable to read %s/control/me" % home).encode(), "the log says which file, in full")
    with open(os.path.join(home, "control", "me"), "w") as f:
        f.write("mx.tern.test\n")
    with open(os.path.join(home, "control", "databytes"), "w") as f:
        f.write("lots\n")
    r = subprocess.run([tern.prog("tern-smtpd")], input=b"QUIT\r\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=30)
    tap.ok(r.returncode == 111 and b"databytes" in r.stderr, "a control file that is not a number: exit 111, named", r.stderr)


def main():
    direct()
    home, port, log = basics()
    sequence(port)
    null_sender(home, port)
    relaying()
    wildcards_and_mrh()
    swaks(home, port)


tap.main(main)
