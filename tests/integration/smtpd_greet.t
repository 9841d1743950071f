#!/usr/bin/env python3
"""tern-smtpd's greeting (issue 20, sections 4 and 5): `220 TEXT ESMTP`
where TEXT is control/smtpgreeting or control/me (qmail's rule; a text
that already says ESMTP is left alone); the GREETDELAY pause before it,
in which a client that speaks is answered 554 and dropped (logged), a
silent one is greeted, and a trusted one (RELAYCLIENT) does not wait."""
import os
import socket

import tap
import tern

BOUND = 30


def readlog(log):
    with open(log, errors="replace") as f:
        return f.read()


def first_line(port, src="127.0.0.1", send=None):
    """Connects (from src), sends send at once if given, returns (all the
    server's lines until it closes or answers EHLO, the socket)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND, source_address=(src, 0))
    if send:
        s.sendall(send)
    f = s.makefile("rb")
    out = []
    while True:
        line = f.readline()
        out.append(line)
        if not line or line.startswith(b"250 ") or line.startswith(b"5"):
            break
    s.close()
    return out


def test_greeting():
    home = tern.make_home(control={"me": "mx.tern.test", "rcpthosts": "tern.test"})
    p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], env={"TERN_HOME": home})
    tap.is_(first_line(port, send=b"QUIT\r\n")[0], b"220 mx.tern.test ESMTP\r\n",
            "no smtpgreeting: 220 ME ESMTP")
    path = os.path.join(home, "control", "smtpgreeting")
    for text, want, name in (("mail.example.org", b"220 mail.example.org ESMTP\r\n",
                              "smtpgreeting replaces the name; ESMTP follows it (as qmail)"),
                             ("mail.example.org  ready", b"220 mail.example.org  ready ESMTP\r\n",
                              "a longer text: ESMTP after it"),
                             ("mail.example.org ESMTP Postfix", b"220 mail.example.org ESMTP Postfix\r\n",
                              "a text that says ESMTP already is left as it is"),
                             ("", b"220 mx.tern.test ESMTP\r\n", "an empty smtpgreeting counts as none")):
        with open(path, "w") as f:
            f.write(text + "\n")
        tap.is_(first_line(port, send=b"QUIT\r\n")[0], want, name)
    tern.stop(p)


def test_delay():
    home = tern.make_home(control={"rcpthosts": "tern.test"})
    rules = '127.0.0.2:allow,RELAYCLIENT=""\n:allow\n'
    p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], rules=rules,
                                  env={"TERN_HOME": home, "GREETDELAY": "300"})
    out = first_line(port, send=b"EHLO early.example\r\n")
    tap.like(out[0], b"554 5.5.1 Protocol error: you spoke before my greeting",
             "GREETDELAY 300: a client that sends EHLO before the greeting gets 554")
    tap.is_(out[-1:], [b"554 5.5.1 Protocol error: you spoke before my greeting; closing connection\r\n"],
            "and nothing else: no 220, no 250")
    tap.ok(tern.wait_for(lambda: "ip=127.0.0.1 early talker: 20 bytes after" in readlog(log), 10),
           "the log names the early talker", readlog(log))
    tap.like(readlog(log), "before the greeting (GREETDELAY 300 ms): dropped", "and the delay")
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    f = s.makefile("rb")
    tap.like(f.readline(), b"220 ", "a client that waits is greeted after the pause")
    s.sendall(b"EHLO patient.example\r\n")
    tap.like(f.readline(), b"250", "and served")
    s.close()
    out = first_line(port, src="127.0.0.2", send=b"EHLO trusted.example\r\n")
    tap.ok(out[0].startswith(b"220 ") and out[-1].startswith(b"250 "),
           "a RELAYCLIENT (trusted) client is not made to wait: speaking at once is no fault", out)
    tern.stop(p)
    p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], env={"TERN_HOME": home, "GREETDELAY": "soon"})
    tap.like(first_line(port)[0], b"421 4.3.5", "a GREETDELAY that is not a number: 421, configuration error")
    tap.ok(tern.wait_for(lambda: "$GREETDELAY" in readlog(log), 10), "and the log says which setting")
    tern.stop(p)


def main():
    test_greeting()
    test_delay()


tap.main(main)
