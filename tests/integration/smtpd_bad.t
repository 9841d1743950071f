#!/usr/bin/env python3
"""tern-smtpd honours qmail's badmailfrom and badrcptto (issue 15): whole
addresses and @domain lines, case and quoting do not slip past a line, 553
5.7.1 at RCPT, the refusal logged; a change is seen by the next session."""
import os
import smtplib

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log


def rcpt(port, sender, to):
    r = Raw(port)
    r.begin("x.test")
    mail = r.cmd("MAIL FROM:<%s>" % sender)
    code, text = r.cmd("RCPT TO:<%s>" % to)
    r.cmd("QUIT")
    r.close()
    return mail[0], code, text


def main():
    home, port, log = smtpd_server(control={
        "badmailfrom": ["# spammers", "Spam@Bad.test", "@junk.test", ""],
        "badrcptto": ["victim@tern.test", "@closed.tern.test"],
        "rcpthosts": ["tern.test", "closed.tern.test", "sub.junk.test"]})

    m, c, t = rcpt(port, "spam@bad.test", "u@tern.test")
    tap.is_(m, 250, "MAIL from a listed sender is answered 250 (qmail refuses at RCPT)")
    tap.is_(c, 553, "its RCPT gets 553")
    tap.ok(t.startswith(b"5.7.1 ") and b"badmailfrom" in t, "with 5.7.1 and the reason", t)
    tap.is_(rcpt(port, "SPAM@BAD.TEST", "u@tern.test")[1], 553, "the sender in upper case: 553")
    tap.is_(rcpt(port, '"spam"@bad.test.', "u@tern.test")[1], 553, "quoted, with a trailing dot: 553")
    tap.is_(rcpt(port, "anyone@junk.test", "u@tern.test")[1], 553, "@domain line: any sender of that domain: 553")
    tap.is_(rcpt(port, "anyone@sub.junk.test", "u@tern.test")[1], 250, "@domain does not cover subdomains (as qmail)")
    tap.is_(rcpt(port, "other@bad.test", "u@tern.test")[1], 250, "another sender of the same domain: 250")
    tap.is_(rcpt(port, "", "u@tern.test")[1], 250, "the null sender is never listed")

    m, c, t = rcpt(port, "a@good.test", "victim@tern.test")
    tap.is_(c, 553, "listed recipient: 553")
    tap.ok(t.startswith(b"5.7.1 ") and b"badrcptto" in t, "with 5.7.1 and the reason", t)
    tap.is_(rcpt(port, "a@good.test", "VICTIM@TERN.TEST.")[1], 553, "in upper case with a trailing dot: 553")
    tap.is_(rcpt(port, "a@good.test", '"victim"@tern.test')[1], 553, "quoted: 553")
    tap.is_(rcpt(port, "a@good.test", "x@closed.tern.test")[1], 553, "@domain line: 553")
    tap.is_(rcpt(port, "a@good.test", "other@tern.test")[1], 250, "an unlisted recipient: 250")

    # one transaction: the listed recipient is refused, the rest delivered
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    refused = s.sendmail("a@good.test", ["victim@tern.test", "ok@tern.test"], "Subject: x\r\n\r\nx\r\n")
    s.quit()
    tap.is_(list(refused.keys()), ["victim@tern.test"], "smtplib: only the listed recipient refused")
    q = tern.queued_messages(home)
    tap.is_(q[-1][3] if q else None, ["ok@tern.test"], "only the other recipient is queued")
    tap.like(read_log(log, "(badrcptto)"), "to=<victim@tern.test> (refused (badrcptto))", "refusal logged")
    tap.like(read_log(log, "(badmailfrom)"), "(refused (badmailfrom))", "sender refusal logged")

    # trusted clients are refused too (qmail applies the lists to everyone)
    home2, port2, _ = smtpd_server(rules='127.0.0.1:allow,RELAYCLIENT=""\n',
                                   control={"badmailfrom": ["@junk.test"], "badrcptto": ["x@far.test"]})
    tap.is_(rcpt(port2, "a@junk.test", "y@far.test")[1], 553, "relay client, listed sender: 553")
    tap.is_(rcpt(port2, "a@ok.test", "x@far.test")[1], 553, "relay client, listed recipient: 553")
    tap.is_(rcpt(port2, "a@ok.test", "y@far.test")[1], 250, "relay client, unlisted: 250")

    # a change applies from the next session on
    with open(os.path.join(home, "control", "badrcptto"), "a") as f:
        f.write("late@tern.test\n")
    tap.is_(rcpt(port, "a@good.test", "late@tern.test")[1], 553, "a line added while running applies to the next session")
    os.unlink(os.path.join(home, "control", "badmailfrom"))
    tap.is_(rcpt(port, "spam@bad.test", "u@tern.test")[1], 250, "badmailfrom removed: the sender is accepted")


tap.main(main)
