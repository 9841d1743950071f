#!/usr/bin/env python3
"""queue/trigger: tern-queue writes the new message's ID, and tern-send loads
that one message instead of scanning the queue. Whatever else arrives there
(one byte from an older writer, or so much that the fifo may have been full
and a writer's ID dropped) makes tern-send scan the whole queue; a message
with no line at all waits for the periodic scan, every 5 s for a small
queue."""
import os
import signal
import time

import tap
import tern
import deliver


def plant(home, subject):
    """A committed queue file made by hand, with no ID on the trigger."""
    msg = ("Subject: %s\n\nx\n" % subject).encode()
    env = b"Fa@far.test\0Talice@ex.test\0\0"
    mid = "%08x%08x" % (int(time.time()), int.from_bytes(os.urandom(4), "big"))
    d = os.path.join(home, "queue", "mess", mid[-2:])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, mid), "wb") as f:
        f.write(msg + env + b"%020d\n" % len(msg))
    return mid


def poke(home, data, unit=4096):
    """Writes data in writes of unit bytes (atomic on a fifo) until it is
    all written or the fifo is full; returns the bytes written."""
    fd = os.open(os.path.join(home, "queue", "trigger"), os.O_WRONLY | os.O_NONBLOCK)
    n = 0
    try:
        while n < len(data):
            n += os.write(fd, data[n:n + unit])
    except BlockingIOError:
        pass
    os.close(fd)
    return n


def subjects(home):
    return [m.split(b"Subject: ")[1].split(b"\n")[0].decode() for m in deliver.maildir_new(home, "alice")]


def main():
    home = deliver.instance(users=["alice@ex.test"])
    p, log = deliver.start_send(home)
    tap.is_(deliver.queue(home, b"Subject: by-id\n\nx\n", "a@far.test", ["alice@ex.test"]), 0, "queued by tern-queue")
    tap.ok(deliver.wait_maildir(home, "alice", 1), "delivered: the ID on the trigger was enough")

    plant(home, "one-byte")
    poke(home, b"\0")
    tap.ok(tern.wait_for(lambda: "one-byte" in subjects(home), 10), "a byte that is not an ID: full scan, delivered")

    # stop tern-send, fill the fifo with IDs of no message, then plant one
    # whose ID could not have been written: the drain says "maybe full"
    os.kill(p.pid, signal.SIGSTOP)
    fake = b"".join(b"%08x%08x\n" % (0x10000000 + i, i) for i in range(65536 // 17 + 10))
    n = poke(home, fake, 17)   # whole lines only: just the amount tells
    tap.ok(n >= 60000 and n % 17 == 0, "the fifo filled up with whole ID lines (%d bytes)" % n)
    plant(home, "after-overflow")
    os.kill(p.pid, signal.SIGCONT)
    tap.ok(tern.wait_for(lambda: "after-overflow" in subjects(home), 10),
           "a fifo that was full: full scan, the message whose ID was lost is delivered")

    # no line at all (tern-queue killed between its commit and its write to
    # the fifo): a small queue is scanned every 5 s, not every 300
    plant(home, "no-trigger")
    tap.ok(tern.wait_for(lambda: "no-trigger" in subjects(home), 15),
           "a message with no trigger line is found by the periodic scan of a small queue")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    tap.is_(sorted(subjects(home)), ["after-overflow", "by-id", "no-trigger", "one-byte"], "each once")
    tap.is_(tern.stop(p), 0, "tern-send stops")


tap.main(main)
