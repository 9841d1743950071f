#!/usr/bin/env python3
"""tern-smtpd's tarpit: after control/tarpitcount refused recipients in one
session each further refusal waits, longer each time (docs/smtpd.md,
"Tarpit"). Times are measured only as lower bounds; the rest is read from
the log (the wait of each refusal is on the transaction's line)."""
import socket
import time

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log


def refusals(port, n, rcpt="u%d@foreign.test", sender="a@x.test"):
    """One session: MAIL, then n refused recipients. Returns (raw, codes,
    seconds the last reply took)."""
    r = Raw(port, timeout=30)
    r.begin("harvest.test", sender)
    codes, took = [], 0.0
    for i in range(n):
        t0 = time.monotonic()
        codes.append(r.cmd("RCPT TO:<%s>" % (rcpt % i))[0])
        took = time.monotonic() - t0
    return r, codes, took


def quit_log(r, log):
    r.cmd("QUIT")
    r.close()
    return read_log(log, "result=reset by QUIT", timeout=30)


def default_knobs():
    # smtpd_server's timeoutsmtpd of 20 s would cap the wait: the default here
    home, port, log = smtpd_server(control={"timeoutsmtpd": "1200"})
    r, codes, took = refusals(port, 8)
    tap.is_(codes, [553] * 8, "eight refused recipients, each answered 553")
    tap.ok(took >= 1.0, "the 8th refusal waited (%.2f s; at least 1 s)" % took)
    tap.is_(r.cmd("RCPT TO:<u@tern.test>")[0], 250, "a good recipient is not delayed out of the session")
    t = quit_log(r, log)
    tap.like(t, "ip=127.0.0.1 tarpit: more than 5 refused recipients (tarpitcount): each further refusal waits 1 s more than the last, at most 30 s",
             "the start of the tarpit is logged")
    tap.is_(t.count(" tarpit: more than"), 1, "once per session")
    tap.ok("to=<u4@foreign.test> (relaying denied)" in t and "to=<u5@foreign.test> (relaying denied; tarpit 1 s)" in t
           and "to=<u7@foreign.test> (relaying denied; tarpit 3 s)" in t,
           "the 6th refusal waits 1 s, the 8th 3 s (growing by tarpitdelay)", t)


def knob_off():
    home, port, log = smtpd_server(control={"tarpitcount": "0"})
    r, codes, took = refusals(port, 8)
    tap.is_(codes, [553] * 8, "tarpitcount 0: eight refusals")
    t = quit_log(r, log)
    tap.ok("tarpit" not in t, "tarpitcount 0: no refusal waited", t)


def knobs_cap():
    home, port, log = smtpd_server(control={"tarpitcount": "1", "tarpitdelay": "1", "tarpitmaxdelay": "2"})
    r, codes, took = refusals(port, 4)
    # the 2nd, 3rd and 4th wait 1, 2 and 2 s: bad syntax counts too
    tap.is_(r.cmd("RCPT TO:<bad address>")[0], 501, "a syntax error in RCPT is a refusal too")
    t = quit_log(r, log)
    tap.like(t, "at most 2 s", "the log line gives the cap")
    tap.ok("(relaying denied; tarpit 2 s)" in t and "tarpit 3 s" not in t, "tarpitmaxdelay caps the wait", t)
    tap.like(t, "(refused (syntax); tarpit 2 s)", "the syntax refusal waited too")
    # the session timeout caps it as well: a wait must not hold the slot
    # longer than a silent client could
    home, port, log = smtpd_server(control={"tarpitcount": "1", "tarpitdelay": "5", "timeoutsmtpd": "2"})
    r, codes, took = refusals(port, 2)
    t = quit_log(r, log)
    tap.like(t, "(relaying denied; tarpit 2 s)", "timeoutsmtpd caps the wait")


def trusted():
    home, port, log = smtpd_server(rules='127.0.0.1:allow,RELAYCLIENT=""\n')
    r, codes, took = refusals(port, 8, rcpt="nodomain%d")
    tap.is_(codes, [553] * 8, "RELAYCLIENT: addresses without a domain refused")
    t = quit_log(r, log)
    tap.ok("tarpit" not in t, "a RELAYCLIENT is never tarpitted", t)


def others_go_on(opts, mode):
    """A session waiting in the tarpit holds only itself."""
    home, port, log = smtpd_server(control={"tarpitcount": "1", "tarpitdelay": "60", "tarpitmaxdelay": "60",
                                            "timeoutsmtpd": "120"})
    if opts:
        # the same home served by pooled workers
        p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], env={"TERN_HOME": home}, opts=opts)
    a = Raw(port, timeout=30)
    a.begin("harvest.test", "a@x.test")
    a.cmd("RCPT TO:<x0@foreign.test>")
    a.send("RCPT TO:<x1@foreign.test>\r\n")
    tap.ok(read_log(log, " tarpit: more than", timeout=30) and " tarpit: more than" in read_log(log),
           "%s: session A waits in the tarpit" % mode)
    b = Raw(port, timeout=30)
    b.begin("other.test", "b@x.test")
    code = b.cmd("RCPT TO:<u@tern.test>")[0]
    b.cmd("DATA")
    b.send("Subject: meanwhile\r\n\r\nx\r\n.\r\n")
    tap.is_((code, b.reply()[0], b.cmd("QUIT")[0]), (250, 250, 221), "%s: session B is served meanwhile" % mode)
    a.s.setblocking(False)
    try:
        got = a.s.recv(100)
    except BlockingIOError:
        got = None
    tap.is_(got, None, "%s: A's refusal is still held back" % mode)
    a.close()
    b.close()


def main():
    default_knobs()
    knob_off()
    knobs_cap()
    trusted()
    others_go_on((), "one process per session")
    others_go_on(("-w", "10"), "pooled workers")


tap.main(main)
