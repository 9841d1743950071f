#!/usr/bin/env python3
"""tern-send's start: the queue states of docs/INTERNALS.md after a crash.
A state file alone is removed; a tmp/ file older than an hour is removed,
a fresh one kept; recipients the state file records as done are not
delivered again; a deferred recipient keeps its retry time."""
import calendar
import os
import re
import subprocess
import time

import tap
import tern
import deliver


def main():
    home = deliver.instance(users=["alice@ex.test", "bob@ex.test"], control={"retryschedule": "3600"})
    q = os.path.join(home, "queue")
    orphan = os.path.join(q, "state", "ab", "00000001000000ab")
    os.makedirs(os.path.dirname(orphan))
    with open(orphan, "w") as f:
        f.write("K 0 1 done\n")
    old, fresh = os.path.join(q, "tmp", "0000000100000001"), os.path.join(q, "tmp", "0000000100000002")
    for p in (old, fresh):
        with open(p, "w") as f:
            f.write("partial")
    os.utime(old, (time.time() - 7200, time.time() - 7200))

    # one message whose first recipient is recorded as delivered
    tap.is_(deliver.queue(home, b"Subject: half\n\nx\n", "x@far.test", ["alice@ex.test", "bob@ex.test"]), 0, "queued")
    # one whose recipient was deferred just now (retry in an hour)
    deliver.queue(home, b"Subject: later\n\nx\n", "x@far.test", ["bob@ex.test"])
    ids = {}
    for path in deliver.queue_files(home):
        with open(path, "rb") as f:
            ids[b"half" in f.read()] = os.path.basename(path)
    now = int(time.time())
    for half, text in ((True, "K 0 %d delivered before the crash\n" % now),
                       (False, "Z 0 %d 451 try later\n" % now)):
        i = ids[half]
        p = os.path.join(q, "state", i[-2:], i)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    p, log = deliver.start_send(home)
    tap.ok(tern.wait_for(lambda: not os.path.exists(orphan)), "orphan state file removed")
    tap.ok(log.has("removed orphan state file"), "and logged")
    tap.ok(tern.wait_for(lambda: not os.path.exists(old)), "tmp/ file older than an hour removed", log.text())
    tap.ok(os.path.exists(fresh), "fresh tmp/ file kept")
    tap.ok(deliver.wait_maildir(home, "bob", 1), "pending recipient delivered")
    tap.ok(tern.wait_for(lambda: log.has("end msg " + ids[True])), "message finished")
    tap.is_(len(deliver.maildir_new(home, "alice")), 0, "recipient recorded as done not delivered again")
    # Both messages were loaded by the first scan, before the scheduler's
    # first pass; that pass started the first message's delivery, which has
    # ended: had the deferred one been due, it would have started with it.
    later = ids[False]
    tap.ok(log.has("info msg " + later), "the deferred message was loaded", log.text())
    tap.ok(not log.has("msg %s to local" % later), "deferred recipient waits for its retry time", log.text())
    tap.is_(len(deliver.maildir_new(home, "bob")), 1, "bob has only the first message")
    tap.is_(len(deliver.queue_files(home)), 1, "and stays queued")
    r = subprocess.run([tern.prog("tern-qread")], env=deliver.env(home), capture_output=True, timeout=30)
    m = re.search(rb"\tbob@ex.test\t\(1 try; next: ([^;]+) GMT;", r.stdout)
    nxt = calendar.timegm(time.strptime(m.group(1).decode(), "%d %b %Y %H:%M:%S")) if m else 0
    tap.is_(nxt, now + 3600, "tern-qread: the next try an hour after the recorded one")

    # a queue/trigger that is not a fifo would make a busy loop: refused
    home = deliver.instance()
    open(os.path.join(home, "queue", "trigger"), "w").close()
    r = subprocess.run([tern.prog("tern-send")], env=deliver.env(home), capture_output=True, timeout=30)
    tap.is_(r.returncode, 111, "trigger not a fifo: exit 111")
    tap.like(r.stderr, b"trigger is not a fifo", "and says so")


tap.main(main)
