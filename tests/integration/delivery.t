#!/usr/bin/env python3
"""End to end through the real programs: tern-inject (sendmail) -> tern-queue
-> tern-send -> tern-local and tern-remote -> an SMTP sink (smtproutes).
4xx keeps a recipient queued and retried; 5xx for one recipient bounces it
(RFC 3464, in the sender's Maildir) while the others are delivered."""
import os
import subprocess

import tap
import tern
import deliver
import remotetest


def main():
    port, (s,) = remotetest.sinks(["127.0.0.2"], {"127.0.0.2": {"rcpt_replies": {
        "bad@far.test": "550 5.1.1 no such user here",
        "slow@far.test": "451 4.2.0 try again later"}}})
    home = deliver.instance(users=["alice@ex.test"],
                            control={"smtproutes": ["far.test:[127.0.0.2]"], "helohost": "mx.ex.test",
                                     "defaulthost": "ex.test", "timeoutremote": "20"})
    p, log = deliver.start_send(home, extra={"TERN_SMTP_PORT": str(port)})

    sm = os.path.join(tern.tmpdir("tern-sm-"), "sendmail")
    os.symlink(tern.prog("tern-inject"), sm)
    msg = (b"From: Alice <alice@ex.test>\nTo: good@far.test, bad@far.test, alice@ex.test\n"
           b"Cc: other@far.test\nSubject: report\n\nline\n.\n..dots\nend\n")
    r = subprocess.run([sm, "-t", "-f", "alice@ex.test"], input=msg, env=deliver.env(home),
                       capture_output=True, timeout=30)
    tap.ok(r.returncode == 0, "sendmail -t queued it", r.stderr)
    tap.is_(s.wait(1), 1, "one SMTP transaction at the sink")
    t = s.transactions[0] if s.transactions else {}
    tap.is_(t.get("rcpts"), ["good@far.test", "other@far.test"], "accepted remote recipients in one transaction")
    tap.is_(t.get("mail_from"), "alice@ex.test", "envelope sender")
    tap.like(t.get("data", b""), b"Subject: report\r\n\r\nline\r\n.\r\n..dots\r\nend\r\n", "body arrives intact")
    tap.ok(deliver.wait_maildir(home, "alice", 2), "local copy and bounce in alice's Maildir")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    bounces = [m for m in deliver.maildir_new(home, "alice") if b"Subject: failure notice" in m]
    tap.is_(len(bounces), 1, "one bounce")
    b = bounces[0] if bounces else b""
    tap.like(b, b"Final-Recipient: rfc822; bad@far.test\nAction: failed\nStatus: 5.1.1\n", "bad@ reported")
    tap.like(b, b"Diagnostic-Code: smtp; 550 5.1.1 no such user here", "with the remote's reply")
    tap.like(b, b"[127.0.0.2]", "naming the remote host")
    tap.ok(b"Final-Recipient: rfc822; good@far.test" not in b, "delivered recipients not reported")

    # 4xx: stays queued and is retried until the remote accepts
    r = subprocess.run([sm, "-f", "alice@ex.test", "slow@far.test"], input=b"Subject: slow\n\nx\n",
                       env=deliver.env(home), capture_output=True, timeout=30)
    tap.ok(tern.wait_for(lambda: log.count("deferral: slow@far.test") >= 2, 30), "4xx deferred, then retried", log.text()[-2000:])
    tap.is_(len(deliver.queue_files(home)), 1, "still queued")
    s.rcpt_replies.pop("slow@far.test", None)
    tap.ok(deliver.wait_queue_empty(home, 30), "delivered once the remote accepts")
    tap.ok(any(tx["rcpts"] == ["slow@far.test"] for tx in s.transactions), "the sink got it")
    tap.is_(tern.stop(p), 0, "tern-send stops cleanly")


tap.main(main)
