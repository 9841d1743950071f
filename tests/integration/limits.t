#!/usr/bin/env python3
"""The per-client-address limit (tern-tcpserver -C) in front of tern-smtpd:
one address cannot take every slot; the one over its limit is closed at once
(no greeting) and logged, while another address is still served; a slot
freed by that address serves it again."""
import smtplib
import socket

import tap
import tern
from smtpraw import read_log


def connect(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    s.bind((src, 0))
    return s


def greeted(s, port):
    s.connect(("127.0.0.1", port))
    try:
        return s.makefile("rb").readline()
    except OSError:
        return b""


def main():
    home = tern.make_home({"rcpthosts": ["tern.test"], "timeoutsmtpd": "30"})
    tern.make_queue(home)
    _, port, log = tern.tcpserver([tern.prog("tern-smtpd")], env={"TERN_HOME": home}, opts=("-c", "4", "-C", "2"))
    held = [connect("127.0.0.1") for _ in range(2)]
    tap.ok(all(greeted(s, port).startswith(b"220 ") for s in held), "127.0.0.1 holds its 2 slots (-C 2)")
    third = connect("127.0.0.1")
    tap.is_(greeted(third, port), b"", "a third connection from 127.0.0.1 is closed without a greeting")
    third.close()
    tap.like(read_log(log, "per-address limit"), "deny 127.0.0.1 per-address limit reached", "and logged")
    other = connect("127.0.0.2")
    tap.like(greeted(other, port), b"220 ", "127.0.0.2 is still served (2 of 4 slots left)")
    other.close()
    s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=("127.0.0.3", 0))
    s.sendmail("a@x.test", ["u@tern.test"], b"Subject: limits\r\n\r\nhi\r\n")
    s.quit()
    tap.is_(len(tern.queued_messages(home)), 1, "a whole transaction from 127.0.0.3 meanwhile")
    held.pop().close()

    def again():
        s = connect("127.0.0.1")
        ok = greeted(s, port).startswith(b"220 ")
        s.close()
        return ok
    tap.ok(tern.wait_for(again, 10, 0.2), "a freed slot serves 127.0.0.1 again")
    for s in held:
        s.close()


tap.main(main)
