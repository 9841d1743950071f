#!/usr/bin/env python3
"""The retry schedule, with steps that can be told apart: control/
retryschedule "3 600". A remote that answers 451 is tried once, again no
earlier than 3 s after the first failure, and not a third time in the next
seconds (the next wait is 600 s). tern-qread shows each next try: the last
failure's time plus the scheduled wait. A try is a MAIL command at the sink:
the retry may come over the connection of the first (a tern-remote batch
run waits control/remoteidle seconds for its route's next message) or over
a new one."""
import calendar
import os
import re
import subprocess
import time

import tap
import tern
import deliver
import sink

RCPT = "u@sched.test"


def qread(home):
    r = subprocess.run([tern.prog("tern-qread")], env=deliver.env(home), capture_output=True, timeout=30)
    return r.stdout.decode(errors="replace")


def next_try(listing):
    """(tries, next try as epoch seconds) of RCPT's line in tern-qread's output."""
    m = re.search(r"\t%s\t\((\d+) tr(?:y|ies); next: (\d\d \w\w\w \d{4} \d\d:\d\d:\d\d) GMT; last: " % re.escape(RCPT),
                  listing)
    if not m:
        return None, None
    return int(m.group(1)), calendar.timegm(time.strptime(m.group(2), "%d %b %Y %H:%M:%S"))


def last_z(home):
    """The time of the last Z record of the message's state file."""
    for p in deliver.queue_files(home, "state"):
        with open(p) as f:
            zs = [int(l.split()[2]) for l in f if l.startswith("Z ")]
        if zs:
            return zs[-1], len(zs)
    return None, 0


def main():
    s = sink.Sink("127.0.0.2", 0, replies={"rcpt": "451 4.3.0 not now"}).start()
    home = deliver.instance(control={"smtproutes": ["sched.test:[127.0.0.2]:%d" % s.port],
                                     "retryschedule": "3 600", "helohost": "mx.ex.test"})
    p, log = deliver.start_send(home)
    tap.is_(deliver.queue(home, b"Subject: later\n\nx\n", "a@ex.test", [RCPT]), 0, "queued")

    tap.ok(tern.wait_for(lambda: log.count("deferral: " + RCPT) >= 1 and last_z(home)[1] >= 1, 20),
           "the first try is deferred (451)", log.text())
    t1 = s.mail_times[0] if s.mail_times else 0
    z1, _ = last_z(home)
    tries, nxt = next_try(qread(home))
    tap.is_(tries, 1, "tern-qread: 1 try")
    tap.ok(z1 is not None and nxt == z1 + 3, "tern-qread: next try = the failure's time + 3 s", (z1, nxt))

    tap.ok(tern.wait_for(lambda: len(s.mail_times) >= 2, 30), "a second try", s.mail_times)
    t2 = s.mail_times[1] if len(s.mail_times) > 1 else 0
    tap.ok(z1 is not None and t2 >= z1 + 3, "no earlier than scheduled: %.1f s after the first" % (t2 - t1),
           (t1, z1, t2))
    tap.ok(tern.wait_for(lambda: log.count("deferral: " + RCPT) >= 2 and last_z(home)[1] >= 2, 20),
           "deferred again", log.text())
    z2, _ = last_z(home)
    tries, nxt = next_try(qread(home))
    tap.is_(tries, 2, "tern-qread: 2 tries")
    tap.ok(z2 is not None and nxt == z2 + 600, "tern-qread: next try = the second failure's time + 600 s", (z2, nxt))
    # The next try is 10 minutes away: none in the next 4 s (a schedule
    # that repeated its first step would come back after 3).
    tap.ok(not tern.wait_for(lambda: len(s.mail_times) > 2, 4), "no third try in the next seconds", s.mail_times)
    tap.is_(len(s.mail_times), 2, "the sink saw exactly two tries")
    tap.note("%d connection(s) for the two tries" % s.sessions)
    tap.is_(tern.stop(p), 0, "tern-send stops")


tap.main(main)
