#!/usr/bin/env python3
"""tern-queue's commit under fault injection (tests/lib/faults.py), what a
SIGKILL test cannot see (the page cache survives a killed process):

- the order, for the unnamed file (O_TMPFILE, linked through
  /proc/self/fd) and for the named fallback tmp/ID (the unnamed create
  refused with EOPNOTSUPP): the message file fsync'd after its last write
  and before the link that publishes it in mess/, the mess/HH directory fsync'd after the
  link (and mess/ after a new bucket), tmp/ removed and the trigger written
  only once the commit is durable;
- every one of those calls failing in turn: before the commit is durable, a
  temporary qmail-queue exit code (53 for a full disk) and nothing in mess/
  nor tmp/; after it, exit 0 and the message whole in mess/; and each time
  the next message queues fine;
- the same through tern-smtpd, driven turn by turn: 451 at the end of DATA, and the next
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


# FAULT_* that make the unnamed create (O_TMPFILE) fail as on a filesystem
# without it, so tern-queue takes its named fallback, tmp/ID
NO_TMPFILE = dict(call="openat", path="*/queue/tmp/.", prog="tern-queue", errno=95)   # EOPNOTSUPP


def order(home, ids, reader, named=False):
    """The commit's order, recorded (named: on the fallback, tmp/ID).
    Returns the steps: (family, pattern, nth, committed) for every call,
    committed True once the commit is durable (the calls after the fsync
    of mess/HH)."""
    how = "tmp/ID" if named else "unnamed file"
    log = faults.Log()
    qid = ids.next()
    tap.is_(queue(home, qid, faults.env(log, **(NO_TMPFILE if named else {}))), 0, "%s: recorded run: queued" % how)
    poked = drain(reader)
    c = log.calls()
    diag = faults.show(c)
    if named:
        c = [x for x in c if not x.fault]   # the refused O_TMPFILE
    tmp, writes, sync, pub = faults.published(c, "*/queue/tmp/*")
    tap.ok(tmp is not None, "%s: the message is written to a new file in queue/tmp/" % how, diag)
    if tmp is None:
        return []
    f = c[tmp].path
    # an O_TMPFILE file is named DIR/#INODE (deleted) by /proc/self/fd
    tap.ok(f.endswith(" (deleted)") != named and (not named or f.endswith("/queue/tmp/" + qid)),
           "%s: created as %s" % (how, "queue/tmp/ID" if named else "an unnamed file in queue/tmp/"), diag)
    tap.ok(writes and sync is not None and sync > writes[-1], "%s: the file is fsync'd after its last write" % how, diag)
    tap.ok(pub is not None and c[pub].path2.endswith("/queue/mess/%s/%s" % (qid[-2:], qid)),
           "%s: published by a link (or rename) to mess/HH/ID" % how, diag)
    tap.ok(sync is not None and pub is not None and sync < pub, "%s: the data fsync comes before the link" % how, diag)
    bucket = os.path.dirname(c[pub].path2) if pub is not None else "?"
    dsync = faults.first(c, "fsync", start=(pub or 0) + 1, path=bucket)
    tap.ok(pub is not None and dsync is not None, "%s: mess/HH is fsync'd after the link" % how, diag)
    mk = faults.first(c, "mkdir", path=bucket)
    msync = faults.first(c, "fsync", start=(mk or 0) + 1, path=os.path.join(home, "queue", "mess"))
    tap.ok(mk is not None and msync is not None and msync < pub, "%s: a new bucket: mkdir mess/HH, then mess/ fsync'd, "
           "before the link" % how, diag)
    rm = faults.find(c, "unlink", path=os.path.join(home, "queue", "tmp", "*"))
    if named:
        tap.ok(rm == [faults.first(c, "unlink", path=f)] and dsync is not None and rm[0] > dsync,
               "%s: removed once the commit is durable" % how, diag)
    else:
        tap.ok(not rm, "%s: nothing to remove from tmp/ (the file never had a name there)" % how, diag)
    tap.ok(not tmp_files(home), "%s: tmp/ is empty" % how, tmp_files(home))
    trig = faults.first(c, "write", path="*/queue/trigger")
    tap.ok(trig is not None and dsync is not None and trig > dsync, "%s: the trigger is written after it too" % how, diag)
    tap.is_(poked, qid.encode() + b"\n", "%s: the trigger names the message" % how)
    tap.ok(not any(x.fault or x.result.startswith("-1") for x in c), "%s: no other call failed" % how, diag)
    tap.ok(qid in mess(home), "%s: the message is in mess/" % how)
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


class Smtpd:
    """tern-smtpd on pipes, driven turn by turn: the message text goes only
    after the 354 (sent earlier it is refused as improper pipelining)."""
    def __init__(self, env):
        self.p = subprocess.Popen([tern.prog("tern-smtpd")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env)
        self.seen = []

    def reply(self):
        """The reply's lines up to its last one ("250 ..."), as bytes."""
        lines = []
        while True:
            line = self.p.stdout.readline()
            self.seen.append(line)
            if not line:
                return lines
            lines.append(line.rstrip(b"\r\n"))
            if line[3:4] != b"-":
                return lines

    def say(self, text, replies=1):
        self.p.stdin.write(text)
        self.p.stdin.flush()
        return [self.reply() for _ in range(replies)]

    def close(self):
        try:
            self.say(b"QUIT\r\n")
            self.p.stdin.close()
        except OSError:
            pass
        return self.p.wait(30)


def transaction(s):
    """One message; returns the final reply's last line (b"" if none)."""
    r = s.say(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<alice@ex.test>\r\nDATA\r\n", 3)
    if not r[-1] or not r[-1][-1].startswith(b"354 "):
        return b""
    r = s.say(b"Subject: via smtpd\r\n\r\nbody\r\n.\r\n")
    return r[0][-1] if r[0] else b""


def through_smtpd(home, steps):
    """tern-smtpd on pipes; the queue run of the first transaction fails at
    one step, the second transaction's must succeed."""
    for hh in range(256):
        os.makedirs(os.path.join(home, "queue", "mess", "%02x" % hh), exist_ok=True)
    env = dict(os.environ, TERN_HOME=home, TCPREMOTEIP="192.0.2.1")
    for family, pat, nth, committed in steps:
        if committed or family == "mkdir" or pat == "*/queue/mess":
            continue   # the buckets exist here: no mkdir; after the commit: 250 is right
        name = "%s #%d of %s" % (family, nth, pat)
        log = faults.Log()
        before = set(mess(home))
        e = dict(env, **faults.env(log, call=family, nth=nth, path=pat, prog="tern-queue", once=log.marker()))
        s = Smtpd(e)
        s.say(b"", 1)   # the greeting
        s.say(b"EHLO c.test\r\n")
        finals = [transaction(s), transaction(s)]
        s.close()
        new = set(mess(home)) - before
        tap.ok(finals[0].startswith(b"451 4.3.") and finals[1].startswith(b"250 "),
               "tern-smtpd, %s fails: 451 at the end of DATA, then 250 for the next message" % name,
               b"".join(s.seen).decode(errors="replace") + faults.show(log.calls()))
        qid = finals[1].split()[-1].decode() if finals[1].startswith(b"250 ") else "?"
        tap.ok(new == {qid}, "%s: only the acknowledged message is in mess/" % name, (new, qid))


def main():
    home = deliver.instance(users=["alice@ex.test"])
    ids = Ids()
    reader = trigger_reader(home)
    steps = order(home, ids, reader)
    tap.ok(len(steps) >= 8, "the commit has its steps (%d calls)" % len(steps))
    order(home, ids, reader, named=True)
    each_step_fails(home, ids, steps, reader)
    full_disk(home, ids)
    through_smtpd(deliver.instance(users=["alice@ex.test"], control={"rcpthosts": ["ex.test"]}), steps)


tap.main(main)
