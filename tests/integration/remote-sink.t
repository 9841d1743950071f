#!/usr/bin/env python3
# The test SMTP sink (tests/lib/sink.py) itself: what it records, and that
# only CRLF.CRLF ends its DATA, so other tests can trust what it reports.
import os
import socket
import smtplib
import ssl
import tap
import tern
import sink
import queuefile


def raw_session(port, lines):
    with socket.create_connection(("127.0.0.2", port), timeout=10) as c:
        f = c.makefile("rb")
        f.readline()
        for l in lines:
            c.sendall(l)
        c.sendall(b"QUIT\r\n")
        return f.read()


def main():
    d = tern.tmpdir()
    cert = sink.make_cert(d, "sink.test")
    s = sink.Sink("127.0.0.2", 0, tls=cert, auth={"u": "pw"}, auth_required=True,
                  rcpt_replies={"no@x.test": "550 5.1.1 no such user"}, record_dir=d).start()
    m = smtplib.SMTP("127.0.0.2", s.port, timeout=10)
    code, _ = m.mail("a@x.test")
    tap.is_(code, 530, "MAIL before AUTH refused when auth_required")
    m.rset()
    ctx = ssl.create_default_context(cafile=cert[0])
    ctx.check_hostname = False
    m.starttls(context=ctx)
    m.login("u", "pw")
    refused = m.sendmail("a@x.test", ["b@x.test", "no@x.test"], b"Subject: t\r\n\r\n.hi\r\n")
    m.quit()
    tap.is_(refused.get("no@x.test"), (550, b"5.1.1 no such user"), "per-recipient reply")
    tap.is_(s.wait(1), 1, "one transaction recorded")
    t = s.transactions[0]
    tap.ok(t["tls"] and t["auth"] == "u", "TLS and AUTH recorded")
    tap.is_(t["rcpts"], ["b@x.test"], "accepted recipients recorded")
    tap.is_(t["data"], b"Subject: t\r\n\r\n.hi\r\n", "data unstuffed, CRLF kept")
    tap.is_(len(sink.load_records(d)), 1, "record_dir holds the transaction")

    s2 = sink.Sink("127.0.0.2", 0).start()
    out = raw_session(s2.port, [b"HELO c\r\n", b"MAIL FROM:<a@x.test>\r\n", b"RCPT TO:<b@x.test>\r\n",
                                b"DATA\r\n", b"one\n.\nMAIL FROM:<evil@x.test>\r\ntwo\r\n.\r\n"])
    tap.is_(s2.wait(1), 1, "bare LF dot LF does not end DATA")
    tap.ok(s2.transactions[0]["bare_lf"], "bare LF flagged")
    tap.like(s2.transactions[0]["data"], b"one\n.\nMAIL FROM:<evil@x.test>\r\ntwo\r\n", "content kept")
    tap.is_(out.count(b"250 2.0.0 accepted"), 1, "one message accepted")

    qd = tern.tmpdir()
    p = queuefile.write(qd, b"hello\n", "a@x.test", ["b@y.test", "c@y.test"])
    tap.is_(queuefile.read(p), (b"hello\n", "a@x.test", ["b@y.test", "c@y.test"]), "queuefile round trip")
    s.stop()
    s2.stop()


tap.main(main)
