#!/usr/bin/env python3
"""Backscatter (docs/security.md): the Delivered-To loop check that
tern-local makes after acceptance is made by tern-smtpd at the end of DATA
(554 5.4.6), with the same function (lib/msghdr.h), so a message a stranger
sends is never accepted and then bounced for a loop to a forged sender.
Each case goes through tern-smtpd and, separately, straight into the queue
for tern-local: both must decide the same. (The Received hop count limit:
smtpd_limits.t.)"""
import os
import smtplib

import tap
import tern
import deliver

# (name, message with {r} for the recipient, recipients ({r}, and "bob"), loops)
CASES = [
    ("Delivered-To of the recipient", b"Delivered-To: {r}\nSubject: 1\n\nx\n", ["{r}"], True),
    ("any case, blanks around", b"Subject: 2\ndelivered-to: \t{R} \t\n\nx\n", ["{r}"], True),
    ("below other fields and a folded one", b"Received: a\n b\nX: y\nDelivered-To: {r}\n\nx\n", ["{r}"], True),
    ("in the body", b"Subject: 4\n\nDelivered-To: {r}\n", ["{r}"], False),
    ("after a line that ends the header section", b"Subject: 5\nnot a header\nDelivered-To: {r}\n\nx\n", ["{r}"], False),
    ("another local address", b"Delivered-To: bob@ex.test\nSubject: 6\n\nx\n", ["{r}"], False),
    ("one of two recipients loops", b"Delivered-To: {r}\nSubject: 7\n\nx\n", ["{r}", "bob@ex.test"], True),
    ("a folded Delivered-To", b"Delivered-To:\n {r}\nSubject: 8\n\nx\n", ["{r}"], False),
]


def fill(text, r):
    return text.replace(b"{r}", r.encode()).replace(b"{R}", r.upper().encode())


def main():
    users = ["u%d@ex.test" % i for i in range(len(CASES))] + ["bob@ex.test"]
    home = deliver.instance(users=users, control={"rcpthosts": ["ex.test", "relay.test"], "timeoutsmtpd": "20",
                                                  "doublebounceto": ""})
    _, port, log = tern.tcpserver([tern.prog("tern-smtpd")], env={"TERN_HOME": home})
    for i, (name, text, rcpts, loops) in enumerate(CASES):
        r = users[i]
        msg = fill(text, r).replace(b"\n", b"\r\n")
        to = [x.replace("{r}", r) for x in rcpts]
        s = smtplib.SMTP("127.0.0.1", port, timeout=15)
        try:
            s.sendmail("a@x.test", to, msg)
            got = (250, b"")
        except smtplib.SMTPDataError as e:
            got = (e.smtp_code, e.smtp_error)
        s.quit()
        if loops:
            tap.ok(got[0] == 554 and got[1].startswith(b"5.4.6 Mail loop: this message was already delivered to "),
                   "smtpd: %s: 554 5.4.6 at the end of DATA" % name, got)
        else:
            tap.is_(got[0], 250, "smtpd: %s: accepted" % name)
    s = smtplib.SMTP("127.0.0.1", port, timeout=15)
    tap.is_(s.sendmail("a@x.test", ["x@relay.test"], b"Delivered-To: x@relay.test\r\nSubject: r\r\n\r\nx\r\n"), {},
            "smtpd: a domain we relay for but do not deliver locally: accepted (tern-local never sees it)")
    s.quit()
    want = sum(1 for c in CASES if not c[3]) + 1
    tap.is_(len(tern.queued_messages(home)), want, "only the accepted messages queued")
    tap.like(open(log).read(), "result=554 5.4.6 Mail loop", "refusals logged")

    # the same messages straight into tern-local's hands
    for d in ("mess", "state"):
        for f in deliver.queue_files(home, d):
            os.unlink(f)
    for i, (name, text, rcpts, loops) in enumerate(CASES):
        r = users[i]
        deliver.queue(home, fill(text, r), "", [x.replace("{r}", r) for x in rcpts])
    p, slog = deliver.start_send(home)
    tap.ok(deliver.wait_queue_empty(home, 30), "tern-local handled them", slog.text())
    tern.stop(p)
    for i, (name, text, rcpts, loops) in enumerate(CASES):
        failed = slog.has("failure: %s: 5.4.6 mail loop" % users[i])
        tap.is_(failed, loops, "tern-local: %s: %s" % (name, "a loop" if loops else "delivered"))


tap.main(main)
