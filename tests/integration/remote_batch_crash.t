#!/usr/bin/env python3
"""Crashes with batches in flight: a tern-remote -b run SIGKILLed in the
middle of its batch, then tern-send alone SIGKILLed with batches running,
and restarted, under a queue of messages to one route. Every message
arrives; duplicates at most one per killed tern-remote (the message it was
carrying, if the sink had answered its data: the documented window); the
killed tern-send makes none (its runs finish their message and report into
their job files)."""
import collections
import os
import signal

import tap
import tern
import deliver
import remotetest

N = 60


def batch_runs(ppid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) != ppid:
                    continue
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if f.read().split(b"\0")[1:2] == [b"-b"]:
                    out.append(int(p))
        except (OSError, IndexError, ValueError):
            pass
    return out


def main():
    port, (s,) = remotetest.sinks(["127.0.0.2"], {"127.0.0.2": {"delays": {"dot": 0.05}}})
    home = deliver.instance(control={"smtproutes": ["far.test:[127.0.0.2]"], "helohost": "mx.ex.test",
                                     "timeoutremote": "20", "concurrencyremote": "3", "retryschedule": "1"})
    for i in range(N):
        code = deliver.queue(home, ("Subject: m%03d\n\nbody %d\n" % (i, i)).encode(), "a@ex.test", ["r%d@far.test" % i])
        if code != 0:
            tap.ok(False, "queue message %d: exit %d" % (i, code))
            return
    env = {"TERN_SMTP_PORT": str(port)}
    p, log = deliver.start_send(home, extra=env)
    tap.ok(tern.wait_for(lambda: len(s.transactions) >= 10 and batch_runs(p.pid), 60), "batches under way")
    runs = batch_runs(p.pid)
    victim = runs[0] if runs else None
    if victim:
        os.kill(victim, signal.SIGKILL)
    tap.ok(victim is not None, "a tern-remote -b run killed in the middle of its batch")
    tap.ok(tern.wait_for(lambda: len(s.transactions) >= 30 and len(batch_runs(p.pid)) >= 2, 60),
           "batches go on after it")
    os.kill(p.pid, signal.SIGKILL)   # tern-send alone: its runs finish the message they carry
    p.wait()
    tap.ok(len(deliver.queue_files(home)) > 0, "tern-send killed with messages left in the queue")
    p, log = deliver.start_send(home, extra=env)
    tap.ok(deliver.wait_queue_empty(home, 120), "queue empty after the restart", log.text()[-2000:])
    counts = collections.Counter(remotetest.subjects(s))
    missing = [x for x in ("m%03d" % i for i in range(N)) if x not in counts]
    dups = sum(c - 1 for c in counts.values())
    tap.is_(missing, [], "every message arrived")
    tap.note("duplicates: %d" % dups)
    tap.ok(dups <= 1, "duplicates (%d) at most one: the message the killed tern-remote carried" % dups)
    tap.is_(tern.stop(p), 0, "restarted tern-send exits 0")
    tap.is_(os.listdir(os.path.join(home, "queue", "job")), [], "no job file left")


tap.main(main)
