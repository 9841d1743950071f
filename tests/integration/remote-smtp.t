#!/usr/bin/env python3
# tern-remote's SMTP client against sinks: many recipients in one
# transaction, per-recipient replies, the DATA encoding (no smuggling),
# HELO fallback, SIZE, timeouts, and what is reported for each.
import tap
import tern
import remotetest

MSG = b"From: a@y.test\nSubject: t\n\nhello\n"


def main():
    addrs = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"]
    opts = {
        "127.0.0.2": {"rcpt_replies": {"full@a.test": "452 4.2.2 mailbox full", "gone@a.test": "550 5.1.1 no such user here"}},
        "127.0.0.3": {"ehlo": False},
        "127.0.0.4": {"pipelining": False, "size": 100},
        "127.0.0.5": {"replies": {"greeting": "hang"}},
        "127.0.0.6": {"replies": {"dot": "close"}},
        "127.0.0.7": {"replies": {"dot": "554 5.7.1 spam\nreally"}},
        "127.0.0.8": {"replies": {"mail": "451 4.7.1 greylisted"}},
    }
    port, sk = remotetest.sinks(addrs, opts)
    s2, s3, s4, s5, s6, s7, s8 = sk
    routes = ["a.test:[127.0.0.2]", "helo.test:[127.0.0.3]", "nopipe.test:[127.0.0.4]",
              "hang.test:[127.0.0.5]", "drop.test:[127.0.0.6]", "spam.test:[127.0.0.7]",
              "grey.test:[127.0.0.8]"]
    home = tern.make_home({"smtproutes": routes, "helohost": "out.tern.test",
                           "timeoutconnect": "30", "timeoutremote": "30"})
    # Only the silent-server case waits for a timeout: short there, generous elsewhere.
    hang_home = tern.make_home({"smtproutes": routes, "timeoutremote": "1"})
    env = {"TERN_SMTP_PORT": str(port)}

    def run(domain, rcpts, msg=MSG, sender="a@y.test", h=None):
        return remotetest.run(h or home, domain, sender, rcpts, msg, env=env)

    rcpts = ["u1@a.test", "full@a.test", "u2@a.test", "gone@a.test", "U3@A.test"]
    recs, _, rc = run("a.test", rcpts)
    tap.is_(rc, 0, "exit 0")
    tap.is_([r[0] for r in recs], ["K", "Z", "K", "D", "K"], "one record per recipient, in order")
    tap.like(recs[1][1], "452 4.2.2 mailbox full", "4xx: the remote's text")
    tap.like(recs[3][1], "550 5.1.1 no such user here", "5xx: the remote's text")
    tap.like(recs[3][1], "[127.0.0.2]", "the text names the host")
    tap.is_(s2.wait(1), 1, "one transaction")
    t = s2.transactions[0]
    tap.is_(t["rcpts"], ["u1@a.test", "u2@a.test", "U3@A.test"], "all accepted recipients in it")
    tap.is_(t["helo"], "out.tern.test", "EHLO with control/helohost")
    tap.is_(t["data"], b"From: a@y.test\r\nSubject: t\r\n\r\nhello\r\n", "CRLF line ends")
    tap.is_(s2.sessions, 1, "one connection")

    many = ["m%d@a.test" % i for i in range(250)]
    recs, _, _ = run("a.test", many)
    tap.ok(len(recs) == 250 and all(r[0] == "K" for r in recs), "250 recipients (pipelined in groups): all delivered")
    tap.is_(s2.wait(2), 2, "in one transaction")
    tap.is_(s2.transactions[1]["rcpts"], many, "every recipient, in order")
    del s2.transactions[1]

    evil = (b"Subject: x\n\nline\n.\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<v@x.test>\r\n.\r\n"
            b"DATA\r\n.dot\r.\rlast\r\r\n.")
    recs, _, _ = run("a.test", ["u1@a.test"], evil)
    tap.is_(recs[0][0], "K", "hostile content delivered")
    tap.is_(s2.wait(2), 2, "as one more transaction")
    t = s2.transactions[1]
    tap.is_(t["data"], b"Subject: x\r\n\r\nline\r\n.\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<v@x.test>\r\n"
                       b".\r\nDATA\r\n.dot\r\n.\r\nlast\r\n\r\n.\r\n", "content arrives as content (dots stuffed, CR/LF normalised)")
    tap.ok(not t["bare_cr"] and not t["bare_lf"], "no bare CR or LF on the wire")
    tap.is_([c for c in s2.commands if c.upper().startswith("MAIL")], ["MAIL FROM:<a@y.test>"] * 3,
            "the sink never saw a smuggled MAIL (one per session)")
    tap.is_([c for c in s2.commands if "evil" in c or "v@x.test" in c], [], "no content line read as a command")

    recs, _, _ = run("a.test", ["u1@a.test"], b"no newline at end", sender="")
    tap.is_(recs[0][0], "K", "null sender, unterminated last line")
    tap.is_(s2.wait(3), 3, "third transaction")
    tap.is_((s2.transactions[2]["mail_from"], s2.transactions[2]["data"]), ("", b"no newline at end\r\n"),
            "MAIL FROM:<> and the last line terminated")

    recs, _, _ = run("a.test", ["ok@a.test", "bad\r\nRCPT TO:<x@a.test>", "b<c@a.test"])
    tap.is_([r[0] for r in recs], ["K", "D", "D"], "addresses with CR/LF or brackets refused, others sent")
    tap.is_(s2.wait(4), 4, "fourth transaction")
    tap.is_(s2.transactions[3]["rcpts"], ["ok@a.test"], "only the clean address went out")

    recs, _, _ = run("helo.test", ["u@helo.test"])
    tap.is_(recs[0][0], "K", "EHLO refused: HELO works")
    tap.ok(s3.wait(1) == 1 and not s3.transactions[0]["esmtp"], "HELO used", s3.commands)

    recs, _, _ = run("nopipe.test", ["u@nopipe.test", "v@nopipe.test"], b"short\n")
    tap.is_([r[0] for r in recs], ["K", "K"], "no PIPELINING: delivered")
    tap.is_(s4.wait(1), 1, "one transaction")
    tap.is_(s4.transactions[0]["mail_params"], "SIZE=6", "SIZE= sent to a server that offers SIZE")
    recs, _, _ = run("nopipe.test", ["u@nopipe.test"], b"x" * 200 + b"\n")
    tap.ok(recs[0][0] == "D" and "SIZE" in recs[0][1], "bigger than the announced SIZE: permanent", recs)

    recs, _, _ = run("hang.test", ["u@hang.test"], h=hang_home)
    tap.ok(recs[0][0] == "Z" and "timed out" in recs[0][1], "silent server: timeout, temporary", recs)

    recs, _, _ = run("drop.test", ["u@drop.test"])
    tap.ok(recs[0][0] == "Z" and "may arrive twice" in recs[0][1], "connection lost after the dot: temporary", recs)

    recs, _, _ = run("spam.test", ["u@spam.test", "v@spam.test"])
    tap.is_([r[0] for r in recs], ["D", "D"], "5xx after DATA: permanent for all")
    tap.like(recs[0][1], "554 5.7.1 spam / really", "multi-line reply joined")

    recs, _, _ = run("grey.test", ["u@grey.test", "v@grey.test"])
    tap.ok([r[0] for r in recs] == ["Z", "Z"] and "451 4.7.1 greylisted" in recs[1][1], "MAIL 4xx: temporary for all", recs)

    for s in sk:
        s.stop()


tap.main(main)
