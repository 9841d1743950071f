#!/usr/bin/env python3
"""The active limit (control/queueactive): tern-send holds at most that
many messages in memory and reads the rest when room frees, at the first
scan and from the trigger; all are delivered. Deferred messages leave
memory until their next try, so they cannot keep new mail out. Memory
stays bounded with a big queue (a generous RSS bound)."""
import os
import re
import time

import tap
import tern
import deliver
import remotetest


def in_memory_max(log):
    n = top = 0
    for line in log.lines:
        if "info: new msg " in line:
            n += 1
        elif "info: end msg " in line or "left on disk until its next try" in line:
            n -= 1
        top = max(top, n)
    return top


def cap():
    home = deliver.instance(users=["alice@ex.test"], control={"queueactive": "5", "concurrencylocal": "2"})
    for i in range(30):
        deliver.queue(home, "Subject: a%d\n\nx\n" % i, "b@far.test", ["alice@ex.test"])
    p, log = deliver.start_send(home)
    tap.ok(tern.wait_for(lambda: log.has("queue read:"), 30), "cap: first scan done")
    tap.like(log.text(), "more left on disk (queueactive 5)", "cap: the rest left on disk")
    for i in range(30, 40):   # through the trigger while the limit holds
        deliver.queue(home, "Subject: a%d\n\nx\n" % i, "b@far.test", ["alice@ex.test"])
    tap.ok(deliver.wait_maildir(home, "alice", 40, 60), "cap: all 40 delivered")
    tap.ok(deliver.wait_queue_empty(home, 20), "cap: queue empty")
    top = in_memory_max(log)
    tap.ok(0 < top <= 5, "cap: at most 5 messages in memory at once (%d)" % top)
    tap.is_(tern.stop(p), 0, "cap: tern-send stops")


def evict():
    port, (s,) = remotetest.sinks(["127.0.0.2"], {"127.0.0.2": {"rcpt_replies": {
        "stuck@far.test": "451 4.3.0 try again much later"}}})
    home = deliver.instance(users=["alice@ex.test"], control={
        "queueactive": "4", "retryschedule": "3600", "smtproutes": ["far.test:[127.0.0.2]"],
        "helohost": "mx.ex.test"})
    for i in range(4):
        deliver.queue(home, "Subject: s%d\n\nx\n" % i, "b@far.test", ["stuck@far.test"])
    p, log = deliver.start_send(home, extra={"TERN_SMTP_PORT": str(port)})
    tap.ok(tern.wait_for(lambda: log.count("deferral: stuck@far.test") >= 4, 30), "evict: 4 deferred messages")
    for i in range(12):
        deliver.queue(home, "Subject: n%d\n\nx\n" % i, "b@far.test", ["alice@ex.test"])
    tap.ok(deliver.wait_maildir(home, "alice", 12, 60), "evict: new mail delivered past the deferred ones",
           log.text()[-2000:])
    tap.ok(log.has("left on disk until its next try"), "evict: deferred messages left memory")
    # the last delivered message leaves the queue just after its Maildir file appears
    tap.ok(tern.wait_for(lambda: len(deliver.queue_files(home)) == 4, 20), "evict: the deferred ones still queued",
           deliver.queue_files(home))
    tern.stop(p)
    tap.ok(log.count("new msg") == 16, "evict: each deferred message loaded once (not before its next try)")


def fill(home, n):
    """n queued messages in the documented queue format, as bench/bench.py does."""
    body = b"From: a@x.test\nSubject: scale\n\n" + b"z" * 200 + b"\n"
    env = b"Fa@x.test\0Tu@far.test\0\0"
    data = body + env + ("%020d\n" % len(body)).encode()
    now = int(time.time())
    rnd = os.urandom(4 * n)
    for i in range(n):
        qid = "%08x%08x" % (now, int.from_bytes(rnd[4 * i:4 * i + 4], "big") ^ i)
        d = os.path.join(home, "queue", "mess", qid[-2:])
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, qid), "wb") as f:
            f.write(data)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def memory():
    # deliveries stall at a sink that never greets: tern-send only loads
    port, (s,) = remotetest.sinks(["127.0.0.2"], {"127.0.0.2": {"replies": {"greeting": "hang"}}})
    rss = {}
    for n, active in ((0, 200), (30000, 200), (30000, 100000)):
        home = deliver.instance(control={"queueactive": str(active), "smtproutes": ["far.test:[127.0.0.2]"],
                                         "helohost": "mx.ex.test", "concurrencyremote": "1",
                                         "timeoutremote": "3"})
        fill(home, n)
        p, log = deliver.start_send(home, extra={"TERN_SMTP_PORT": str(port)})
        tap.ok(tern.wait_for(lambda: log.has("queue read:"), 120), "memory: %d queued, queueactive %d: queue read"
               % (n, active))
        rss[n, active] = rss_kib(p.pid)
        tap.note("tern-send RSS with %d queued, queueactive %d: %d KiB" % (n, active, rss[n, active]))
        tern.stop(p)
    # growth over an empty queue (a sanitizer build has a large base)
    capped, full = rss[30000, 200] - rss[0, 200], rss[30000, 100000] - rss[0, 200]
    tap.ok(full > 4096, "memory: holding all 30000 messages takes %d KiB more" % full)
    tap.ok(capped * 4 < full, "memory: queueactive 200 keeps the growth to %d KiB, under a quarter" % capped)


def main():
    cap()
    evict()
    memory()


tap.main(main)
