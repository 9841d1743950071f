#!/usr/bin/env python3
"""tern-smtpd: every limit gives its reply (line length, size, recipients,
errors, timeout, hop count) and the session survives or ends cleanly."""
import time

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log


def session(port, helo="x.test"):
    r = Raw(port)
    return r, r.begin(helo)


def data(r, body):
    code, _ = r.cmd("DATA")
    if code != 354:
        return code, b"DATA refused"
    r.send(body + b".\r\n")
    return r.reply()


def line_length():
    home, port, log = smtpd_server(control={"maxcmdline": "512"})
    r, _ = session(port)
    code, text = r.cmd("NOOP " + "x" * 600)
    tap.is_(code, 500, "overlong command line: 500")
    tap.like(text, b"5.5.2 Line too long: the limit is 512 bytes", "reply names the limit")
    tap.is_(r.cmd("NOOP")[0], 250, "the rest of the long line was discarded; next command answered")
    tap.is_(r.cmd("NOOP " + "y" * 505)[0], 250, "a 512-byte line (CRLF included) is fine")
    tap.is_(r.cmd("NOOP " + "y" * 506)[0], 500, "a 513-byte line is not")
    r.send(b"NOOP " + b"z" * (1100 * 1024))
    code, text = r.reply()
    tap.is_(code, 421, "a line without end: 421 once it passes 1 MiB")
    tap.ok(r.closed(), "and the connection is closed")


def size():
    home, port, log = smtpd_server(control={"databytes": "1000"})
    r, text = session(port)
    tap.like(text, b"SIZE 1000", "EHLO advertises the databytes limit")
    code, text = r.cmd("MAIL FROM:<a@x.test> SIZE=2000")
    tap.is_(code, 552, "MAIL with SIZE= over the limit: 552")
    tap.like(text, b"5.3.4", "with 5.3.4")
    tap.is_(r.cmd("MAIL FROM:<a@x.test> SIZE=900")[0], 250, "SIZE= under the limit accepted")
    r.cmd("RCPT TO:<u@tern.test>")
    code, text = data(r, b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 1 + (b"y" * 78 + b"\r\n") * 20)
    tap.is_((code, text[:5]), (552, b"5.3.4"), "a body over databytes: 552 5.3.4 after DATA")
    tap.is_(tern.queued_messages(home), [], "nothing queued")
    tap.is_(r.cmd("MAIL FROM:<a@x.test>")[0], 250, "the session goes on")
    r.cmd("RCPT TO:<u@tern.test>")
    tap.is_(data(r, b"small\r\n")[0], 250, "a small message then goes through")

    home, port, log = smtpd_server(control={"databytes": "100000"}, rules='127.0.0.1:allow,DATABYTES="50"\n')
    r, text = session(port)
    tap.like(text, b"SIZE 50\r" if False else b"SIZE 50", "DATABYTES from the rules overrides control/databytes")
    r.cmd("MAIL FROM:<a@x.test>")
    r.cmd("RCPT TO:<u@tern.test>")
    tap.is_(data(r, b"x" * 60 + b"\r\n")[0], 552, "and is enforced")


def recipients():
    home, port, log = smtpd_server(control={"maxrcpt": "3"})
    r, _ = session(port)
    r.cmd("MAIL FROM:<a@x.test>")
    for i in range(3):
        r.cmd("RCPT TO:<u%d@tern.test>" % i)
    code, text = r.cmd("RCPT TO:<u3@tern.test>")
    tap.is_((code, text[:5]), (452, b"4.5.3"), "recipient over maxrcpt: 452 4.5.3")
    tap.is_(data(r, b"x\r\n")[0], 250, "the message goes to the first three")
    tap.is_(tern.queued_messages(home)[0][3], ["u0@tern.test", "u1@tern.test", "u2@tern.test"], "three recipients queued")


def errors():
    home, port, log = smtpd_server(control={"maxerrors": "3"})
    r, _ = session(port)
    r.cmd("BOGUS")
    r.cmd("BOGUS")
    code, text = r.cmd("BOGUS")
    tap.is_(code, 500, "third error still answered")
    code, text = r.reply()
    tap.is_(code, 421, "then 421 after maxerrors")
    tap.like(text, b"Too many errors", "saying why")
    tap.ok(r.closed(), "connection closed")


def timeout():
    home, port, log = smtpd_server(control={"timeoutsmtpd": "1"})
    r, _ = session(port)
    start = time.monotonic()
    code, text = r.reply()
    tap.is_(code, 421, "idle client gets 421 after timeoutsmtpd")
    tap.like(text, b"4.4.2 Timeout", "saying it timed out")
    tap.ok(time.monotonic() - start < 15, "within a generous bound")
    r, _ = session(port)
    r.cmd("MAIL FROM:<a@x.test>")
    r.cmd("RCPT TO:<u@tern.test>")
    r.cmd("DATA")
    r.send("Subject: slow\r\n")
    tap.is_(r.reply()[0], 421, "a client stalling in DATA gets 421")
    tap.ok(r.closed(), "and is dropped")
    tap.is_(tern.queued_messages(home), [], "and nothing is queued")
    t = read_log(log, "timeout during DATA")
    tap.is_(t.count("tern-smtpd: info:"), 1, "one log line for the transaction: result=timeout during DATA")


def hops():
    home, port, log = smtpd_server()
    r, _ = session(port)
    for n, want in ((100, 250), (101, 554)):
        r.cmd("MAIL FROM:<a@x.test>")
        r.cmd("RCPT TO:<u@tern.test>")
        hdrs = b"".join(b"Received: from hop%d.test\r\n" % i for i in range(n))
        code, text = data(r, hdrs + b"Subject: loop\r\n\r\nbody\r\nReceived: in the body does not count\r\n")
        tap.is_(code, want, "%d Received lines (plus ours): %d" % (n, want))
    tap.like(text, b"5.4.6", "loop refused with 5.4.6")
    tap.is_(len(tern.queued_messages(home)), 1, "only the 100-hop message queued")
    home, port, log = smtpd_server(control={"maxhops": "2"})
    r, _ = session(port)
    r.cmd("MAIL FROM:<a@x.test>")
    r.cmd("RCPT TO:<u@tern.test>")
    tap.is_(data(r, b"received: a\r\nRECEIVED: b\r\nReceived: c\r\n\r\nx\r\n")[0], 554, "maxhops knob, header names in any case")


def main():
    line_length()
    size()
    recipients()
    errors()
    timeout()
    hops()


tap.main(main)
