#!/usr/bin/env python3
"""tern-send + tern-local: Maildir delivery, aliases, loops, unknown users, missing Maildir."""
import os

import tap
import tern
import deliver


def main():
    home = deliver.instance(users=["alice@ex.test", "bob@ex.test", "pm@ex.test"],
                            control={"doublebounceto": "pm@ex.test"},
                            aliases="team@ex.test: alice@ex.test, Bob@EX.test\n"
                                    "self@ex.test: self@ex.test\n")
    p, log = deliver.start_send(home)
    msg = b"From: x@far.test\nSubject: hello\n\nline one\n.\nlast\n"
    tap.is_(deliver.queue(home, msg, "x@far.test", ["Alice@ex.test"]), 0, "queued")
    tap.ok(deliver.wait_maildir(home, "alice", 1), "message lands in alice's Maildir/new")
    got = deliver.maildir_new(home, "alice")
    tap.ok(got and got[0].startswith(b"Return-Path: <x@far.test>\nDelivered-To: alice@ex.test\n"),
           "Return-Path and Delivered-To added", got[:1])
    tap.ok(got and got[0].endswith(msg), "message body intact")
    tap.ok(deliver.wait_queue_empty(home), "queue empty after delivery (mess and state removed)")
    tap.ok(tern.wait_for(lambda: log.has("success: Alice@ex.test: delivered to ")), "success logged", log.text())
    tap.ok(tern.wait_for(lambda: log.has("end msg ")), "end msg logged")
    tap.ok(not os.listdir(os.path.join(home, "maildirs", "alice", "tmp")), "nothing left in Maildir/tmp")

    # an alias to two local users, one of them through case folding
    deliver.queue(home, b"Subject: team\n\nhi team\n", "x@far.test", ["team@ex.test"])
    tap.ok(deliver.wait_maildir(home, "alice", 2) and deliver.wait_maildir(home, "bob", 1),
           "alias delivers to both members")

    # +detail reaches the user
    deliver.queue(home, b"Subject: detail\n\nd\n", "x@far.test", ["bob+lists@ex.test"])
    tap.ok(deliver.wait_maildir(home, "bob", 2), "user+detail delivered to user")

    # a message that already went through alice: loop
    looped = b"Delivered-To: alice@ex.test\nSubject: loop\n\nx\n"
    deliver.queue(home, looped, "", ["alice@ex.test"])
    tap.ok(tern.wait_for(lambda: log.has("failure: alice@ex.test: 5.4.6 mail loop")), "Delivered-To loop is a permanent failure", log.text())
    tap.is_(len(deliver.maildir_new(home, "alice")), 2, "looping message not delivered")
    tap.ok(deliver.wait_maildir(home, "pm", 1), "failed null-sender mail: double bounce to doublebounceto")
    db = (deliver.maildir_new(home, "pm") or [b""])[0]
    tap.like(db, b"Return-Path: <#@[]>", "double bounce has the #@[] sender")
    tap.like(db, b"Subject: loop", "double bounce carries the original headers")

    # unknown user of a local domain: permanent, bounced to the sender
    deliver.queue(home, b"Subject: who\n\nx\n", "alice@ex.test", ["nobody@ex.test"])
    tap.ok(tern.wait_for(lambda: log.has("failure: nobody@ex.test: 5.1.1 no such user here")), "unknown user fails permanently")
    tap.ok(deliver.wait_maildir(home, "alice", 3), "bounce reaches the sender's Maildir")
    b = ([m for m in deliver.maildir_new(home, "alice") if b"Subject: failure notice" in m] or [b""])[0]
    tap.like(b, b"Return-Path: <>", "bounce has the null sender")
    tap.like(b, b"Content-Type: multipart/report; report-type=delivery-status", "bounce is a multipart/report")
    tap.like(b, b"Final-Recipient: rfc822; nobody@ex.test\nAction: failed\nStatus: 5.1.1", "delivery-status for the recipient")
    tap.like(b, b"Content-Type: text/rfc822-headers\nContent-Description: Undelivered message headers\n\nSubject: who\n", "original headers included")

    # a missing Maildir is temporary: the message stays queued and is retried
    import shutil
    md = os.path.join(home, "maildirs", "bob")
    shutil.move(md, md + ".away")
    deliver.queue(home, b"Subject: later\n\nx\n", "x@far.test", ["bob@ex.test"])
    tap.ok(tern.wait_for(lambda: log.count("deferral: bob@ex.test: unable to") >= 2, 20), "missing Maildir deferred and retried", log.text())
    tap.is_(len(deliver.queue_files(home)), 1, "message still queued")
    tap.ok(deliver.queue_files(home, "state"), "deferral recorded in the state file")
    shutil.move(md + ".away", md)
    tap.ok(deliver.wait_maildir(home, "bob", 3), "delivered once the Maildir is back")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    tap.ok(tern.wait_for(lambda: log.has("status: local 0/10 remote 0/20")), "status counts logged")
    tap.is_(tern.stop(p), 0, "tern-send exits 0 on SIGTERM")


tap.main(main)
