#!/usr/bin/env python3
"""Mail end to end into POP3: SMTP (tern-smtpd) -> tern-queue -> tern-send ->
tern-local -> Maildir -> tern-pop3d (tern-checkpassword). What the POP3
client reads is what the SMTP client sent, plus the delivery headers."""
import os
import poplib
import smtplib
import subprocess

import tap
import tern
import deliver

BODY = ("Subject: through the whole chain\r\n\r\nfirst line\r\n.\r\n"
        "..two dots\r\n.trailing\r\nlast line\r\n")


def main():
    for p in ("tern-smtpd", "tern-send", "tern-local", "tern-checkpassword", "tern-passwd"):
        if not os.path.exists(tern.prog(p)):
            tap.skip_all("%s not built yet" % p)
    home = deliver.instance(users=["alice@ex.test"], control={"rcpthosts": "ex.test"})
    r = subprocess.run([tern.prog("tern-passwd"), "change", "alice@ex.test"], input=b"secret\n",
                       env=dict(os.environ, TERN_HOME=home), capture_output=True, timeout=20)
    tap.ok(r.returncode == 0, "password set with tern-passwd", r.stderr)
    send, log = deliver.start_send(home)
    env = deliver.env(home)
    smtp, sport, slog = tern.tcpserver([tern.prog("tern-smtpd")], env=env)
    pop, pport, plog = tern.tcpserver([tern.prog("tern-pop3d"), "-P", "-d", "0", tern.prog("tern-checkpassword"),
                                       tern.prog("tern-pop3d"), "-m"], env=env)

    s = smtplib.SMTP("127.0.0.1", sport, timeout=20)
    refused = s.sendmail("bob@far.test", ["alice@ex.test"], BODY)
    s.quit()
    tap.is_(refused, {}, "SMTP accepted the message for alice@ex.test")
    tap.ok(deliver.wait_maildir(home, "alice", 1), "tern-local delivered it to alice's Maildir/new")

    p = poplib.POP3("127.0.0.1", pport, timeout=20)
    p.user("alice@ex.test")
    tap.like(p.pass_("secret"), b"+OK 1 messages", "alice logs in over POP3 and has one message")
    cur = os.listdir(os.path.join(home, "maildirs", "alice", "cur"))
    tap.ok(len(cur) == 1 and ",W=" in cur[0] and cur[0].endswith(":2,"), "moved to cur/ with its size", cur)
    resp, uids, _ = p.uidl()
    tap.is_(uids, [b"1 " + cur[0].split(":")[0].encode()], "UIDL is the delivered file's name")
    resp, lines, octets = p.retr(1)
    with open(os.path.join(home, "maildirs", "alice", "cur", cur[0]), "rb") as f:
        stored = f.read()
    tap.is_(lines, stored.rstrip(b"\n").split(b"\n"), "RETR gives exactly the stored lines")
    tap.is_(octets, int(cur[0].split(",W=")[1].split(":")[0]), "RETR octets match the recorded size")
    tap.ok(lines[0].startswith(b"Return-Path: <bob@far.test>") and b"Delivered-To: alice@ex.test" in lines,
           "delivery headers first", lines[:3])
    body = lines[lines.index(b"Subject: through the whole chain"):]
    tap.is_(body, BODY.rstrip("\r\n").encode().split(b"\r\n"),
            "the body as sent over SMTP: dots survive SMTP and POP3 stuffing both")
    p.dele(1)
    p.quit()
    tap.is_(os.listdir(os.path.join(home, "maildirs", "alice", "cur")), [], "DELE + QUIT removed it")
    tern.stop(pop)
    tern.stop(smtp)
    tern.stop(send)


tap.main(main)
