#!/usr/bin/env python3
"""tern-smtpd: DATA framing (dot-unstuffing, only CRLF.CRLF ends, bare LF /
bare CR refused: SMTP smuggling), NULs and bare LF in commands. Pipelining
and NUL in the data: smtpd_smuggling.t."""
import os

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log

SMUGGLE = b"MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@tern.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n"

# (name, data after the 354, error word in the reply)
VARIANTS = [
    ("LF.LF end", b"Subject: a\r\n\r\nbody\n.\n", b"bare LF"),
    ("LF.CRLF end", b"Subject: a\r\n\r\nbody\n.\r\n", b"bare LF"),
    ("CRLF.LF end", b"Subject: a\r\n\r\nbody\r\n.\n", b"bare LF"),
    ("CR.CR end", b"Subject: a\r\n\r\nbody\r.\r", b"bare CR"),
    ("CR.CRLF end", b"Subject: a\r\n\r\nbody\r.\r\n", b"bare CR"),
    ("bare LF in a header", b"Subject: a\nX: b\r\n\r\nbody\r\n.\r\n", b"bare LF"),
    ("bare CR inside a line", b"Subject: a\r\n\r\nbo\rdy\r\n.\r\n", b"bare CR"),
    ("LF.LF then smuggled commands", b"Subject: a\r\n\r\nbody\n.\n" + SMUGGLE, b"bare LF"),
    ("CRLF.LF then smuggled commands", b"Subject: a\r\n\r\nbody\r\n.\n" + SMUGGLE, b"bare LF"),
]


def start_data(port):
    r = Raw(port)
    r.begin("x.test", "a@x.test")
    r.cmd("RCPT TO:<u@tern.test>")
    code, _ = r.cmd("DATA")
    return r, code


def smuggling():
    home, port, log = smtpd_server(control={"timeoutsmtpd": "2"})
    for name, data, word in VARIANTS:
        r, code = start_data(port)
        r.send(data)
        code, text = r.reply()
        tap.is_(code, 554, "%s: refused with 554" % name)
        tap.like(text, word, "%s: the reply says %s" % (name, word.decode()))
        tap.ok(r.closed(), "%s: connection closed, nothing after it is read as a command" % name)
    # CRLF.CR: the LF may still come (CRLF.CRLF split over two packets), so
    # the server waits; the client that never sends it times out, unqueued.
    r, code = start_data(port)
    r.send(b"Subject: a\r\n\r\nbody\r\n.\r")
    tap.is_(r.reply()[0], 421, "CRLF.CR end and silence: 421 after timeoutsmtpd, not 250")
    tap.is_(tern.queued_messages(home), [], "nothing was queued by any variant")
    tap.like(read_log(log, "bare"), "result=554 5.5.2 Message refused: bare", "refusals logged")


def eof_in_data():
    home, port, log = smtpd_server()
    r, code = start_data(port)
    r.send(b"Subject: cut\r\n\r\nhalf a mess")
    r.close()
    t = read_log(log, "connection lost during DATA")
    tap.like(t, "result=connection lost during DATA", "client gone in DATA: logged")
    tap.is_(t.count("tern-smtpd: info:"), 1, "once")
    tap.is_(tern.queued_messages(home), [], "nothing queued")
    tap.ok(tern.wait_for(lambda: os.listdir(os.path.join(home, "queue", "tmp")) == [], 5), "and tern-queue removed its temporary file")


def dots_and_ends(home, port):
    r, code = start_data(port)
    tap.is_(code, 354, "DATA: 354")
    r.send(b"Subject: dots\r\n\r\n..one dot\r\n...two dots\r\n.\r\nnot the end\r\n. \r\nx.\r\n\r\n.\r\n")
    code, text = r.reply()
    tap.is_(code, 250, "a body with stuffed dots and lookalike ends queued")
    qid = text.split()[-1].decode()
    msg = [m for m in tern.queued_messages(home) if m[0] == qid][0][1]
    tap.ok(msg.endswith(b"Subject: dots\n\n.one dot\n..two dots\n"), "CRLF.CRLF ends the data at the first lone dot", msg)
    r.close()


def commands(port):
    r = Raw(port)
    r.reply()
    code, text = r.cmd(b"EHLO x.test\x00evil")
    tap.is_(code, 500, "NUL in a command: 500")
    tap.like(text, b"NUL", "saying NUL")
    r.send(b"NOOP\n")
    code, text = r.reply()
    tap.is_(code, 500, "bare LF ending a command: 500")
    tap.like(text, b"CRLF", "saying to use CRLF")
    r.send(b"NOOP\rNOOP\r\n")
    tap.is_(r.reply()[0], 500, "bare CR inside a command: 500")
    tap.is_(r.cmd("NOOP")[0], 250, "a proper command still works")


def main():
    smuggling()
    eof_in_data()
    # dots_and_ends sends lines after the final dot in the same packet, which
    # the default refuses from a stranger (smtpd_smuggling.t): off here
    home, port, log = smtpd_server(control={"strictpipelining": "0"})
    dots_and_ends(home, port)
    commands(port)
    # pipelining and improper pipelining: smtpd_smuggling.t


tap.main(main)
