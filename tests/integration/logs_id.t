#!/usr/bin/env python3
"""One ID through the logs (issue 15, docs/logs.md): a message accepted by
tern-smtpd, delivered to one local recipient and refused for another, and
its bounce: `grep ID` over tern-smtpd's and tern-send's logs tells the
whole story, the bounce line names the bounce's own ID, `grep` of that ID
tells the bounce's story, and every tern-send line about a message carries
a queue ID."""
import re
import smtplib

import tap
import tern
import deliver
from smtpraw import read_log

# tern-send's lines about no message in particular
GLOBAL = ("starting", "status: ", "queue read: ", "exiting", "flush: ", "tern-remote batch runs",
          "local domains read again", "control files reloaded")


def main():
    home = deliver.instance(users=["alice@ex.test", "bob@ex.test"], control={"rcpthosts": ["ex.test"]})
    fb, fd = deliver.fake_remote("nobody@far.test D 550 5.1.1 mx.far.test said: no such user\n")
    p, log = deliver.start_send(home, extra={"FAKE_REMOTE_DIR": fd}, path_first=fb)
    sp, port, slog = tern.tcpserver([tern.prog("tern-smtpd")], env={"TERN_HOME": home},
                                    rules='127.0.0.1:allow,RELAYCLIENT=""\n')
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("x.test")
    s.mail("bob@ex.test")
    s.rcpt("alice@ex.test")
    s.rcpt("nobody@far.test")   # a relay client: accepted, refused by the (fake) remote host
    code, text = s.data(b"Subject: story\r\n\r\nbody\r\n")
    s.quit()
    m = re.search(rb"\b([0-9a-f]{16})\b", text)
    tap.ok(code == 250 and m, "accepted with its ID in the 250", text)
    mid = m.group(1).decode() if m else "none"
    tap.ok(deliver.wait_maildir(home, "alice", 1), "delivered to alice")
    tap.ok(deliver.wait_maildir(home, "bob", 1), "the bounce reaches bob", log.text()[-2000:])
    tap.ok(tern.wait_for(lambda: log.has("end msg " + mid), 20), "the message ends", log.text()[-2000:])

    story = [l for l in log.lines if mid in l]
    tap.note("\n".join(story))
    tap.like(read_log(slog, "id=" + mid), "id=" + mid, "grep ID: tern-smtpd's accepted line")
    for what, pat in (("loaded", r"new msg %s$"), ("its envelope", r"info msg %s: bytes \d+ from <bob@ex.test> rcpts 2"),
                      ("each attempt", r"starting delivery \d+: msg %s to local alice@ex.test"),
                      ("the attempt for nobody", r"starting delivery \d+: msg %s to remote nobody@far.test"),
                      ("result lines carry the ID", r"delivery \d+: msg %s: success: alice@ex.test: "),
                      ("the failure's result line", r"delivery \d+: msg %s: failure: nobody@far.test: "),
                      ("status=sent", r"msg %s: to=<alice@ex.test> relay=local delay=\d+ tries=1 dsn=2\.\d\.\d status=sent"),
                      ("status=bounced", r"msg %s: to=<nobody@far.test> relay=mx.far.test delay=\d+ tries=1 dsn=5\.\d\.\d status=bounced"),
                      ("the bounce, with its own ID", r"bounce msg %s to <bob@ex.test>: queued as msg [0-9a-f]{16}$"),
                      ("the end", r"end msg %s$")):
        rx = re.compile(pat % mid)
        tap.ok(any(rx.search(l) for l in story), "grep ID: " + what)
    b = [re.search(r"queued as msg ([0-9a-f]{16})$", l) for l in story]
    b = [x.group(1) for x in b if x]
    bid = b[0] if b else "none"
    tap.ok(bid != mid, "the bounce has an ID of its own")
    tap.ok(tern.wait_for(lambda: log.has("end msg " + bid), 20), "grep BOUNCE-ID: it ends", log.text()[-2000:])
    bstory = [l for l in log.lines if bid in l]
    tap.note("\n".join(bstory))
    tap.ok(any(("new msg " + bid) in l for l in bstory), "grep BOUNCE-ID: loaded")
    tap.ok(any(re.search(r"msg %s: to=<bob@ex.test> relay=local .* status=sent" % bid, l) for l in bstory),
           "grep BOUNCE-ID: its status=sent line")
    mine = deliver.maildir_new(home, "bob")[0]
    tap.ok(b"Subject: " in mine and mid.encode() in mine or b"nobody@far.test" in mine, "the bounce names the failure")

    # every line tern-send wrote about a message names one
    stray = [l for l in log.lines if "tern-send: info: " in l
             and not any(l.split("tern-send: info: ", 1)[1].startswith(g) for g in GLOBAL)
             and not re.search(r"\b[0-9a-f]{16}\b", l)]
    tap.is_(stray, [], "every tern-send line about a message carries a queue ID")
    tern.stop(sp)
    tern.stop(p)


tap.main(main)
