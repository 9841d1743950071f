#!/usr/bin/env python3
"""tern-smtpd against SMTP smuggling on the way in (docs/security.md):
NUL in DATA refused with 554 5.6.0; improper pipelining from a client that
is neither authenticated nor a RELAYCLIENT (message text before the 354,
commands after the final dot before its reply) refused with 554 5.5.0 and
the connection closed, nothing queued; the same sequences from a trusted or
authenticated client, and pipelining that waits where RFC 2920 says to
(smtplib, swaks --pipeline), accepted; the probes of the public smuggling
scanner (SEC Consult, 2023) all refused."""
import os
import shutil
import smtplib
import subprocess

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log
from terntls import client_context, make_cert

ENVELOPE = b"MAIL FROM:<a@x.test>\r\nRCPT TO:<u@tern.test>\r\n"
MSG = b"Subject: p\r\n\r\nbody\r\n.\r\n"
SMUGGLED = b"MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@tern.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n"
AFTER_DOT = [("QUIT", b"QUIT\r\n"), ("RSET", b"RSET\r\n"), ("NOOP", b"NOOP\r\n"),
             ("the next transaction", ENVELOPE + b"DATA\r\n"), ("a smuggled message", SMUGGLED)]
# what the public scanner sends after the 354 (inbound_eod_sequences of
# SMTP-Smuggling-Tools), each followed by a smuggled transaction
SCANNER = [b"\n.\n", b"\n.\r", b"\r.\n", b"\r.\r", b"\n.\r\n", b"\r.\r\n", b"\r\n\x00.\r\n"]


def ready(port):
    r = Raw(port)
    r.begin("p.test")
    return r


def queued(home):
    return [m for m in tern.queued_messages(home)]


def legit(home, port):
    r = ready(port)
    r.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<one@tern.test>\r\nRCPT TO:<no@foreign.test>\r\n"
           b"RCPT TO:<two@tern.test>\r\nDATA\r\n")
    tap.is_([r.reply()[0] for _ in range(5)], [250, 250, 553, 250, 354], "a pipelined group ending in DATA: answered in order")
    r.send(b"Subject: p1\r\n\r\none\r\n.\r\n")
    tap.is_(r.reply()[0], 250, "the text after the 354: queued")
    r.send(b"RSET\r\nMAIL FROM:<b@x.test>\r\nRCPT TO:<three@tern.test>\r\nDATA\r\n")
    tap.is_([r.reply()[0] for _ in range(4)], [250, 250, 250, 354], "the next group after the reply to the dot")
    r.send(b"Subject: p2\r\n\r\ntwo\r\n.\r\n")
    tap.is_(r.reply()[0], 250, "second message queued")
    r.send(b"NOOP\r\nQUIT\r\n")
    tap.is_([r.reply()[0] for _ in range(2)], [250, 221], "NOOP and QUIT after the reply")
    got = {tuple(m[3]): m[1] for m in queued(home)}
    tap.ok(got.get(("one@tern.test", "two@tern.test"), b"").endswith(b"Subject: p1\n\none\n"), "first message whole")
    tap.ok(got.get(("three@tern.test",), b"").endswith(b"Subject: p2\n\ntwo\n"), "second message whole")
    s = smtplib.SMTP("127.0.0.1", port, timeout=15)
    tap.is_(s.sendmail("a@x.test", ["lib@tern.test"], MSG[:-3]), {}, "smtplib sends a message")
    s.quit()
    if shutil.which("swaks"):
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", "s@x.test",
                            "--to", "pipe@tern.test", "--pipeline"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        tap.ok(r.returncode == 0, "swaks --pipeline sends a message", r.stdout)
    else:
        tap.ok(True, "# SKIP swaks not installed")


def refused_before_354(home, port, log):
    n = len(queued(home))
    r = ready(port)
    r.send(ENVELOPE + b"DATA\r\n" + MSG)
    codes = [r.reply() for _ in range(3)]
    tap.is_([c[0] for c in codes], [250, 250, 554], "DATA and its text in one packet: 554")
    tap.like(codes[2][1], b"5.5.0 Improper pipelining", "saying why")
    tap.ok(r.closed(), "and the connection is closed")
    tap.is_(len(queued(home)), n, "nothing queued")
    tap.like(read_log(log, "improper pipelining after DATA"), "improper pipelining after DATA: Subject: p??",
             "logged with what the client sent")


def refused_after_dot(home, port, log):
    n = len(queued(home))
    for name, extra in AFTER_DOT:
        r = ready(port)
        r.send(ENVELOPE + b"DATA\r\n")
        tap.is_([r.reply()[0] for _ in range(3)], [250, 250, 354], "%s: envelope and DATA" % name)
        r.send(MSG + extra)
        code, text = r.reply()
        tap.ok(code == 554 and b"5.5.0 Improper pipelining" in text, "%s right after the dot: 554 5.5.0" % name, text)
        tap.ok(r.closed(), "%s: connection closed" % name)
    tap.is_(len(queued(home)), n, "nothing queued by any of them")
    tap.like(read_log(log, "improper pipelining after end of data"), "improper pipelining after end of data: QUIT??",
             "logged")


def scanner(home, port):
    n = len(queued(home))
    for seq in SCANNER:
        r = ready(port)
        r.send(ENVELOPE + b"DATA\r\n")
        [r.reply() for _ in range(3)]
        r.send(b"Subject: check\r\n\r\ntesting\r\n" + seq + SMUGGLED)
        code, text = r.reply()
        tap.is_(code, 554, "scanner probe %r: refused" % seq)
        if b"\x00" in seq:
            tap.like(text, b"5.6.0", "  with 5.6.0 (NUL)")
            tap.is_(r.cmd("NOOP")[0], 250, "  the framing was CRLF all along: the session goes on")
        else:
            tap.ok(r.closed(), "  and the connection closed (bare line ends)")
    tap.is_(len(queued(home)), n, "no probe queued anything")


def nul(home, port, log):
    r = ready(port)
    n = len(queued(home))
    r.send(ENVELOPE + b"DATA\r\n")
    [r.reply() for _ in range(3)]
    r.send(b"Subject: nul\r\n\r\nbinary\x00data\r\n.\r\n")
    code, text = r.reply()
    tap.is_((code, text), (554, b"5.6.0 Message refused: NUL character in the data"), "NUL in DATA: 554 5.6.0")
    tap.is_(len(queued(home)), n, "not queued")
    tap.like(read_log(log, "5.6.0"), "result=554 5.6.0", "logged")
    r.send(ENVELOPE + b"DATA\r\n")
    tap.is_([r.reply()[0] for _ in range(3)], [250, 250, 354], "the session goes on")
    r.send(b"Subject: clean\r\n\r\nok\r\n.\r\n")
    tap.is_(r.reply()[0], 250, "a clean message is then accepted")
    r.send(ENVELOPE + b"DATA\r\n")
    [r.reply() for _ in range(3)]
    r.send(b"Subject: nul\r\n\r\nx\x00.\r\n.\r\nQUIT\r\n")
    code, text = r.reply()
    tap.ok(code == 554 and b"5.5.0" in text and r.closed(), "a NUL and commands after the dot: the pipelining refusal, closed", text)


def trusted():
    home, port, log = smtpd_server(rules='127.0.0.1:allow,RELAYCLIENT=""\n')
    r = ready(port)
    r.send(ENVELOPE + b"DATA\r\n" + MSG + ENVELOPE + b"DATA\r\n" + MSG + b"QUIT\r\n")
    tap.is_([r.reply()[0] for _ in range(8)], [250, 250, 354, 250, 250, 250, 354, 250],
            "RELAYCLIENT: text before the 354 and commands after the dot accepted")
    tap.is_(r.reply()[0], 221, "and QUIT")
    tap.is_(len(queued(home)), 2, "both messages queued")
    home, port, log = smtpd_server(control={"strictpipelining": "0"})
    r = ready(port)
    r.send(ENVELOPE + b"DATA\r\n" + MSG + b"QUIT\r\n")
    tap.is_([r.reply()[0] for _ in range(5)], [250, 250, 354, 250, 221], "control/strictpipelining 0: the check is off")
    tap.is_(len(queued(home)), 1, "and the message queued")


def authenticated():
    home = tern.make_home({"rcpthosts": ["tern.test"], "timeoutsmtpd": "20"})
    tern.make_queue(home)
    pw = "pipe secret"
    r = subprocess.run([tern.prog("tern-passwd"), "add", "joe@tern.test"], input=(pw + "\n").encode(),
                       env=dict(os.environ, TERN_HOME=home), stderr=subprocess.PIPE)
    tap.is_(r.returncode, 0, "a user to log in as")
    key, cert = make_cert(tern.tmpdir())
    chain = [tern.prog("tern-tlsd"), "-k", key, "-c", cert, tern.prog("tern-smtpd"), tern.prog("tern-checkpassword"), "true"]
    _, port, log = tern.tcpserver(chain, env={"TERN_HOME": home})
    s = smtplib.SMTP("127.0.0.1", port, timeout=15)
    s.starttls(context=client_context())
    s.login("joe@tern.test", pw)
    s.send(ENVELOPE + b"DATA\r\n" + MSG + b"QUIT\r\n")
    tap.is_([s.getreply()[0] for _ in range(5)], [250, 250, 354, 250, 221], "AUTH: the same pipelining accepted")
    tap.is_(len(queued(home)), 1, "and the message queued")


def main():
    home, port, log = smtpd_server()
    legit(home, port)
    refused_before_354(home, port, log)
    refused_after_dot(home, port, log)
    scanner(home, port)
    nul(home, port, log)
    trusted()
    authenticated()


tap.main(main)
