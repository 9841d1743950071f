#!/usr/bin/env python3
"""tern-local on a full disk: the delivery is deferred (never bounced, never
half-written into new/), and goes through once there is room."""
import os

import tap
import tern
import deliver


def main():
    home = deliver.instance(users=["alice@ex.test"])
    md = os.path.join(home, "maildirs", "alice")
    if not tern.mount_tmpfs(md, "64k"):
        tap.skip_all("cannot mount a small tmpfs (needs root)")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub))
    p, log = deliver.start_send(home)
    big = b"Subject: big\n\n" + b"x" * 200000 + b"\n"
    tap.is_(deliver.queue(home, big, "x@far.test", ["alice@ex.test"]), 0, "queued a message larger than the disk")
    tap.ok(tern.wait_for(lambda: log.has("deferral: alice@ex.test: unable to write into the Maildir")), "deferred", log.text())
    tap.like(log.text(), "No space left on device", "with the reason")
    tap.is_(os.listdir(os.path.join(md, "new")), [], "nothing in new/")
    tap.is_(os.listdir(os.path.join(md, "tmp")), [], "the partial file removed from tmp/")
    tap.ok(not log.has("failure: alice@ex.test"), "not bounced")
    tap.is_(len(deliver.queue_files(home)), 1, "still queued")
    tern.stop(p)
    import subprocess
    subprocess.run(["umount", "-l", md])
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    p, log = deliver.start_send(home)
    tap.ok(deliver.wait_maildir(home, "alice", 1), "delivered once there is room")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")


tap.main(main)
