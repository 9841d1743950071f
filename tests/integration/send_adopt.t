#!/usr/bin/env python3
"""tern-send alone SIGKILLed while its delivery runs go on (the way s6 or a
crash ends it): the runs write their reports into job files, and the next
tern-send reads them instead of delivering those recipients again.
Round 1 restarts at once (the runs are still going: it waits for them);
round 2 restarts after they ended (it finds their reports on disk). Either
way every message is sent exactly once."""
import collections
import os
import signal
import time

import tap
import tern
import deliver

N = 40
CONC = 8


def round_(label, restart_delay):
    home = deliver.instance(control={"concurrencyremote": str(CONC)})
    fb, fd = deliver.fake_remote("")
    with open(os.path.join(fd, "sleep"), "w") as f:
        f.write("1")
    for i in range(N):
        code = deliver.queue(home, ("Subject: m%03d\n\nbody\n" % i).encode(), "a@ex.test", ["r%d@far.test" % i])
        if code != 0:
            tap.ok(False, "queue message %d: exit %d" % (i, code))
            return
    extra = {"FAKE_REMOTE_DIR": fd}
    p, log = deliver.start_send(home, extra=extra, path_first=fb)
    # kill while a full set of runs is sleeping, some already done
    tap.ok(tern.wait_for(lambda: len(deliver.runs(fd)) >= CONC and log.count("starting delivery") >= 2 * CONC, 30),
           "%s: deliveries under way" % label)
    os.kill(p.pid, signal.SIGKILL)   # tern-send only: its runs live on
    p.wait()
    started = log.count("starting delivery")
    done = log.count("delivery ") - started
    tap.note("%s: killed with %d runs started, %d results logged" % (label, started, done))
    tap.ok(started > done, "%s: runs were in flight at the kill" % label)
    if restart_delay:
        time.sleep(restart_delay)
    p, log = deliver.start_send(home, extra=extra, path_first=fb)
    tap.ok(deliver.wait_queue_empty(home, 60), "%s: queue empty after the restart" % label)
    counts = collections.Counter(r["subject"] for r in deliver.runs(fd))
    missing = [s for s in ("m%03d" % i for i in range(N)) if s not in counts]
    dups = {s: c for s, c in counts.items() if c > 1}
    tap.is_(missing, [], "%s: every message sent" % label)
    tap.is_(dups, {}, "%s: none sent twice" % label)
    jobdir = os.path.join(home, "queue", "job")
    # the last run's file is emptied just after its message leaves the queue
    tap.ok(tern.wait_for(lambda: all(os.path.getsize(os.path.join(jobdir, f)) == 0 for f in os.listdir(jobdir)), 10),
           "%s: the job files of the idle slots are empty" % label)
    tap.is_(tern.stop(p), 0, "%s: tern-send exits 0" % label)
    tap.is_(os.listdir(jobdir), [], "%s: and removes them" % label)
    return log


def main():
    log = round_("restart at once", 0)
    tap.ok(log and log.has("started by an earlier tern-send is still running"),
           "the new tern-send waited for the runs it found going")
    tap.ok(log and log.has(", started by an earlier tern-send"), "and logged their results as its deliveries")
    log = round_("restart after the runs ended", 3)
    tap.ok(log and log.has("recorded the results of a delivery that ended while tern-send was down"),
           "the new tern-send read the reports left on disk")
    # a job file that is not one: removed with a warning, nothing else done
    home = deliver.instance(users=["alice@ex.test"])
    bad = os.path.join(home, "queue", "job", "1.1")
    with open(bad, "wb") as f:
        f.write(b"0123456789abcdef x 0\nK250 ok\0")
    twice = os.path.join(home, "queue", "job", "1.2")
    with open(twice, "wb") as f:
        f.write(b"0123456789abcdef r 0 0\nK250 ok\0K250 ok\0")
    p, log = deliver.start_send(home)
    tap.ok(tern.wait_for(lambda: log.count("removed malformed job file") == 2, 10),
           "malformed job files are reported (a bad kind; a recipient named twice)")
    tap.ok(not os.path.exists(bad) and not os.path.exists(twice), "and removed")
    tap.is_(tern.stop(p), 0, "tern-send goes on and exits 0")


tap.main(main)
