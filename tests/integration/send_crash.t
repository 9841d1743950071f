#!/usr/bin/env python3
"""tern-send killed with SIGKILL in the middle of a batch and restarted:
every message is delivered; duplicates are counted (at most the deliveries
that were running when it died)."""
import os
import signal
import collections

import tap
import tern
import deliver

N = 120


def subjects(home):
    out = []
    for m in deliver.maildir_new(home, "alice"):
        for line in m.split(b"\n"):
            if line.startswith(b"Subject: "):
                out.append(line[9:].decode())
                break
    return out


def main():
    home = deliver.instance(users=["alice@ex.test"], control={"concurrencylocal": "4"})
    for i in range(N):
        code = deliver.queue(home, ("Subject: m%03d\n\nbody %d\n" % (i, i)).encode(), "x@far.test", ["alice@ex.test"])
        if code != 0:
            tap.ok(False, "queue message %d: exit %d" % (i, code))
            return
    tap.is_(len(deliver.queue_files(home)), N, "%d messages queued" % N)
    p, log = deliver.start_send(home)
    tap.ok(tern.wait_for(lambda: len(deliver.maildir_new(home, "alice")) >= N // 4, 30), "delivery under way")
    os.killpg(p.pid, signal.SIGKILL)   # tern-send and the tern-local runs it started
    p.wait()
    mid = len(deliver.maildir_new(home, "alice"))
    tap.note("delivered before the kill: %d" % mid)
    tap.ok(mid < N, "killed in the middle of the batch")
    p, log = deliver.start_send(home)
    tap.ok(deliver.wait_queue_empty(home, 60), "queue empty after the restart")
    got = subjects(home)
    counts = collections.Counter(got)
    missing = [s for s in ("m%03d" % i for i in range(N)) if s not in counts]
    dups = sum(c - 1 for c in counts.values())
    tap.is_(missing, [], "every message delivered")
    tap.note("duplicates: %d" % dups)
    tap.ok(dups <= 4, "duplicates at most the concurrency (%d)" % dups)
    tap.is_(tern.stop(p), 0, "restarted tern-send exits 0")


tap.main(main)
