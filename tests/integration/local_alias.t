#!/usr/bin/env python3
"""An alias whose Maildirs partly fail: the members that got the message get
it once; the failed member's copy is queued anew (with the alias's
Delivered-To line) and delivered once its Maildir works, instead of the
whole alias being retried (one more copy for everybody at every retry)."""
import os
import shutil

import tap
import tern
import deliver


def count(home, user, needle=b"Subject: party"):
    return sum(1 for m in deliver.maildir_new(home, user) if needle in m)


def main():
    home = deliver.instance(users=["alice@ex.test", "bob@ex.test", "carol@ex.test", "team2@ex.test"],
                            aliases="team@ex.test: alice@ex.test, bob@ex.test, carol@ex.test\n"
                                    "team2@ex.test: team2@ex.test, carol@ex.test\n")
    bob = os.path.join(home, "maildirs", "bob")
    shutil.rmtree(bob)
    p, log = deliver.start_send(home)
    tap.is_(deliver.queue(home, b"Subject: party\n\nat eight\n", "x@far.test", ["team@ex.test"]), 0, "queued to the alias")
    tap.ok(tern.wait_for(lambda: log.has("success: team@ex.test: delivered to "), 20),
           "the alias is done", log.text()[-2000:])
    tap.ok(log.has("queued anew for the Maildirs that failed (unable to") and log.has("no such Maildir"),
           "and the log says a copy was queued anew, and why")
    tap.ok(tern.wait_for(lambda: log.count("deferral: bob@ex.test") >= 2, 20), "bob's copy is retried on its own")
    tap.is_((count(home, "alice"), count(home, "carol")), (1, 1), "alice and carol have one copy each meanwhile")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(bob, sub))
    tap.ok(deliver.wait_maildir(home, "bob", 1), "bob's Maildir back: his copy arrives")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    got = deliver.maildir_new(home, "bob")[0]
    tap.like(got, b"Delivered-To: bob@ex.test\n", "bob's copy: Delivered-To bob")
    tap.like(got, b"Delivered-To: team@ex.test\n", "and the alias's line (the loop check of the next pass)")
    tap.like(got, b"Return-Path: <x@far.test>\n", "with the original sender")
    tap.is_((count(home, "alice"), count(home, "bob"), count(home, "carol")), (1, 1, 1), "one copy each in the end")

    # an alias keeping a copy in its own Maildir: that copy cannot be queued
    # anew by address (it would expand the alias again), so the whole
    # recipient is retried, as before
    shutil.rmtree(os.path.join(home, "maildirs", "team2"))
    tap.is_(deliver.queue(home, b"Subject: self\n\nx\n", "x@far.test", ["team2@ex.test"]), 0, "queued to a self-keeping alias")
    tap.ok(tern.wait_for(lambda: log.has("deferral: team2@ex.test: unable to"), 20),
           "its own Maildir failing defers the whole alias")
    tap.is_(tern.stop(p), 0, "tern-send stops")


tap.main(main)
