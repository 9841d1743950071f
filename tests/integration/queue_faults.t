#!/usr/bin/env python3
"""tern-queue's commit under fault injection (tests/lib/faults.py), what a
SIGKILL test cannot see (the page cache survives a killed process):

- the order: the message file fsync'd after its last write and before the
  link that publishes it in mess/, the mess/HH directory fsync'd after the
  link (and mess/ after a new bucket), tmp/ removed and the trigger written
  only once the commit is durable;
- every one of those calls failing in turn: before the commit is durable, a
  temporary qmail-queue exit code (53 for a full disk) and nothing in mess/
  nor tmp/; after it, exit 0 and the message whole in mess/; and each time
  the next message queues fine;
- the same through tern-smtpd: 451 at the end of DATA, and the next
  transaction of the session gets 250."""
import os
import subprocess
import time

import tap
import tern
import deliver
import faults

MSG = b"Subject: durable\n\nline one\nline two\n"
TEMP_CODES = {51, 52, 53, 54, 55, 61, 62, 71, 81}   # lib/qexit.h: temporary


class Ids:
    """Queue IDs proposed through TERN_QUEUEID, each in a bucket (mess/HH)
    not used before, so every run takes the same path (mkdir included)."""
    def __init__(self):
        self.t = int(time.time())
        self.n = 0

    def next(self):
        self.n += 1
        return "%08x%06x%02x" % (self.t, self.n, self.n % 256)


def queue(home, qid, extra=None):
    e = {"TERN_QUEUEID": qid}
    e.update(extra or {})
    return deliver.queue(home, MSG, "a@x.test", ["alice@ex.test"], extra=e)


def mess(home):
    """{id: (message, sender, rcpts)} of the whole files in mess/; a half
    file raises."""
    return {m[0]: m[1:] for m in tern.queued_messages(home)}


def tmp_files(home):
    return os.listdir(os.path.join(home, "queue", "tmp"))


def pattern(home, path):
    """A path of the log turned into a FAULT_PATH pattern that matches the
    same step in another run (another home, another ID)."""
    q = os.path.join(home, "queue") + "/"
    if not path.startswith(q):
        return None
    parts = path[len(q):].split("/")
    if parts[0] == "tmp" and len(parts) == 2:
        return "*/queue/tmp/*"
    if parts[0] == "mess":
        return "*/queue/" + "/".join(["mess"] + ["*"] * (len(parts) - 1))
    return "*/queue/" + "/".join(parts)


def trigger_reader(home):
    """A reader on queue/trigger, so that tern-queue writes to it."""
    fifo = os.path.join(home, "queue", "trigger")
    os.mkfifo(fifo)
    return os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)


def drain(fd):
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


def order(home, ids, reader):
    """The commit's order, recorded. Returns the steps: (family, pattern,
    nth, committed) for every call, committed True once the commit is
    durable (the calls after the fsync of mess/HH)."""
    log = faults.Log()
    qid = ids.next()
    tap.is_(queue(home, qid, faults.env(log)), 0, "recorded run: queued")
    poked = drain(reader)
    c = log.calls()
    diag = faults.show(c)
    tmp, writes, sync, pub = faults.published(c, "*/queue/tmp/*")
    tap.ok(tmp is not None, "the message is written to a new file in queue/tmp/", diag)
    if tmp is None:
        return []
    f = c[tmp].path
    tap.ok(writes and sync is not None and sync > writes[-1], "the file is fsync'd after its last write", diag)
    tap.ok(pub is not None and c[pub].path2.endswith("/queue/mess/%s/%s" % (qid[-2:], qid)),
           "and published by a link (or rename) to mess/HH/ID", diag)
    tap.ok(sync is not None and pub is not None and sync < pub, "the data fsync comes before the link", diag)
    bucket = os.path.dirname(c[pub].path2) if pub is not None else "?"
    dsync = faults.first(c, "fsync", start=(pub or 0) + 1, path=bucket)
    tap.ok(pub is not None and dsync is not None, "mess/HH is fsync'd after the link", diag)
    mk = faults.first(c, "mkdir", path=bucket)
    msync = faults.first(c, "fsync", start=(mk or 0) + 1, path=os.path.join(home, "queue", "mess"))
    tap.ok(mk is not None and msync is not None, "a new bucket: mkdir mess/HH, then mess/ fsync'd", diag)
    rm = faults.first(c, "unlink", path=f)
    tap.ok(rm is not None and dsync is not None and rm > dsync, "tmp/ID removed after the commit is durable", diag)
    trig = faults.first(c, "write", path="*/queue/trigger")
    tap.ok(trig is not None and dsync is not None and trig > dsync, "the trigger is written after it too", diag)
    tap.is_(poked, qid.encode() + b"\n", "the trigger names the message")
    tap.ok(not any(x.fault or x.result.startswith("-1") for x in c), "no call failed", diag)
    tap.is_(list(mess(home)), [qid], "the message is in mess/")
    steps, seen = [], {}
    for i, x in enumerate(c):
        p = pattern(home, x.path)
        if p is None:
            continue
        key = (x.family, p)
        seen[key] = seen.get(key, 0) + 1
        steps.append((x.family, p, seen[key], dsync is not None and i > dsync))
    return steps


def each_step_fails(home, ids, steps, reader):
    """Every call of the commit fails in turn (EIO); then a run without
    fault. Both must leave the queue consistent."""
    have = set(mess(home))
    for family, pat, nth, committed in steps:
        drain(reader)
        name = "%s #%d of %s" % (family, nth, pat)
        log = faults.Log()
        qid = ids.next()
        code = queue(home, qid, faults.env(log, call=family, nth=nth, path=pat, prog="tern-queue"))
        fired = any(y.fault for y in log.calls())
        try:
            now = mess(home)
            whole = True
        except ValueError as e:
            now, whole = {}, False
            tap.note("half file: %s" % e)
        if committed:
            tap.ok(fired and code == 0 and qid in now and whole,
                   "%s fails after the commit: exit 0, the message whole in mess/" % name,
                   "exit %s; %s" % (code, faults.show(log.calls())))
            have.add(qid)
        else:
            tap.ok(fired and code in TEMP_CODES and qid not in now and whole,
                   "%s fails: temporary exit (%s), nothing in mess/" % (name, code),
                   "fault fired: %s; %s" % (fired, faults.show(log.calls())))
        if committed:
            # a tmp/ file left by a failed unlink is harmless: tern-send
            # removes it after an hour (docs/INTERNALS.md)
            for t in tmp_files(home):
                os.unlink(os.path.join(home, "queue", "tmp", t))
        tap.ok(set(now) == have and not tmp_files(home), "%s: nothing else in mess/, nothing left in tmp/" % name,
               (sorted(now), sorted(have), tmp_files(home)))
        qid = ids.next()
        tap.ok(queue(home, qid) == 0 and qid in mess(home), "%s: the next message queues fine" % name)
        have.add(qid)


def full_disk(home, ids):
    """ENOSPC at the first write and at the link: 53, the disk-full code."""
    for family, pat in (("write", "*/queue/tmp/*"), ("link", "*/queue/tmp/*"), ("fsync", "*/queue/tmp/*")):
        qid = ids.next()
        code = queue(home, qid, faults.env(None, call=family, path=pat, prog="tern-queue", errno="ENOSPC"))
        tap.is_(code, 53, "ENOSPC at %s: exit 53 (write error or disk full)" % family)


def through_smtpd(home, steps):
    """tern-smtpd on pipes; the queue run of the first transaction fails at
    one step, the second transaction's must succeed."""
    for hh in range(256):
        os.makedirs(os.path.join(home, "queue", "mess", "%02x" % hh), exist_ok=True)
    env = dict(os.environ, TERN_HOME=home, TCPREMOTEIP="192.0.2.1")
    txn = (b"MAIL FROM:<a@x.test>\r\nRCPT TO:<alice@ex.test>\r\nDATA\r\n"
           b"Subject: via smtpd\r\n\r\nbody\r\n.\r\n")
    inp = b"EHLO c.test\r\n" + txn + txn + b"QUIT\r\n"
    for family, pat, nth, committed in steps:
        if committed or family == "mkdir" or pat == "*/queue/mess":
            continue   # the buckets exist here: no mkdir; after the commit: 250 is right
        name = "%s #%d of %s" % (family, nth, pat)
        log = faults.Log()
        before = set(mess(home))
        e = dict(env, **faults.env(log, call=family, nth=nth, path=pat, prog="tern-queue", once=log.marker()))
        r = subprocess.run([tern.prog("tern-smtpd")], input=inp, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=e, timeout=30)
        finals = [l for l in r.stdout.split(b"\r\n") if l[:4] in (b"250 ", b"451 ", b"554 ", b"452 ")
                  and (b"queue" in l.lower())]
        new = set(mess(home)) - before
        tap.ok(len(finals) == 2 and finals[0].startswith(b"451 4.3.") and finals[1].startswith(b"250 "),
               "tern-smtpd, %s fails: 451 at the end of DATA, then 250 for the next message" % name,
               r.stdout.decode(errors="replace") + faults.show(log.calls()))
        qid = finals[1].split()[-1].decode() if len(finals) == 2 else "?"
        tap.ok(new == {qid}, "%s: only the acknowledged message is in mess/" % name, (new, qid))


def main():
    home = deliver.instance(users=["alice@ex.test"])
    ids = Ids()
    reader = trigger_reader(home)
    steps = order(home, ids, reader)
    tap.ok(len(steps) >= 8, "the commit has its steps (%d calls)" % len(steps))
    each_step_fails(home, ids, steps, reader)
    full_disk(home, ids)
    through_smtpd(deliver.instance(users=["alice@ex.test"], control={"rcpthosts": ["ex.test"]}), steps)


tap.main(main)
