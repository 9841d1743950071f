#!/usr/bin/env python3
"""The admin's queue control while tern-send runs (issue 15): a flush
(tern-qflush, sendmail -q, SIGALRM as `s6-svc -a` sends) retries a deferred
message at once; tern-qsuper deletes by ID and by pattern, holds and
releases, with no warning loop in tern-send; the listing's format; the queue
tools without TERN_HOME fail naming where they looked."""
import os
import re
import signal
import subprocess

import tap
import tern
import deliver


def run(argv, home, extra=None, env=None):
    r = subprocess.run(argv, env=env or deliver.env(home, extra), capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def rules(fd, text):
    with open(os.path.join(fd, "rules"), "w") as f:
        f.write(text)


def ids(home, sub="mess"):
    return sorted(os.path.basename(p) for p in deliver.queue_files(home, sub))


def queue_one(home, subject, sender, rcpt):
    before = set(ids(home))
    deliver.queue(home, ("Subject: %s\n\nbody\n" % subject).encode(), sender, [rcpt])
    new = tern.wait_for(lambda: set(ids(home)) - before, 10)
    return sorted(new)[0] if new else None


def subjects(fd):
    return [r["subject"] for r in deliver.runs(fd)]


def main():
    # an hour between tries: only a flush explains a second try within the test
    home = deliver.instance(users=["alice@ex.test"], control={"retryschedule": "3600"})
    fb, fd = deliver.fake_remote("* Z 451 4.3.0 mx.far.test said: try later\n")
    p, log = deliver.start_send(home, extra={"FAKE_REMOTE_DIR": fd}, path_first=fb)

    code, out, _ = run([tern.prog("tern-qread")], home)
    tap.is_((code, out), (0, "Mail queue is empty\n"), "an empty queue says so")

    # --- flush: tern-qflush ---
    a = queue_one(home, "flush-a", "bob@far.test", "z@far.test")
    tap.ok(tern.wait_for(lambda: log.has("deferral: z@far.test"), 20), "deferred")
    code, out, _ = run([tern.prog("tern-qread")], home)
    lines = out.split("\n")
    tap.like(lines[0], "Queue ID", "listing: a header line")
    tap.ok(re.match(r"^%s  \d+ +  \d\d \w\w\w \d{4} [\d:]+ GMT  \d\d \w\w\w \d{4} [\d:]+ GMT  <bob@far.test>$" % a, lines[1]),
           "listing: ID (no #), size, arrival, next try, sender", lines[1])
    tap.like(out, "\tremote\tz@far.test\t(1 try; next: ", "listing: the pending recipient")
    tap.like(out, "\n-- 1 Kbytes in 1 Request.\n", "listing: the closing line")
    rules(fd, "")
    code, _, err = run([tern.prog("tern-qflush")], home)
    tap.ok(code == 0, "tern-qflush exits 0", err)
    tap.ok(tern.wait_for(lambda: not ids(home), 20), "flush: the deferred message is delivered at once")
    tap.ok(tern.wait_for(lambda: log.has("flush: 1 deferred recipients are tried now"), 10), "tern-send logs the flush")
    story = [l for l in log.lines if a in l]
    tap.ok(any("new msg " + a in l for l in story) and any("starting delivery" in l for l in story),
           "grep ID: loaded and each attempt", story)
    # the outcome lines come after the message leaves the queue: wait for both
    tap.ok(tern.wait_for(lambda: re.search(r"msg %s: to=<z@far.test> relay=mx.far.test delay=\d+ tries=1 dsn=4.3.0 status=deferred \(" % a, log.text())
           and re.search(r"msg %s: to=<z@far.test> relay=\S+ delay=\d+ tries=2 dsn=2.0.0 status=sent \(" % a, log.text()), 10),
           "grep ID: a status= line per outcome (deferred, then sent)", "\n".join(l for l in log.lines if a in l))

    # --- flush: SIGALRM (s6-svc -a), and sendmail -q ---
    rules(fd, "* Z 451 4.3.0 try later\n")
    b = queue_one(home, "flush-b", "bob@far.test", "y@far.test")
    tap.ok(tern.wait_for(lambda: log.has("deferral: y@far.test"), 20), "deferred again")
    rules(fd, "")
    os.kill(p.pid, signal.SIGALRM)
    tap.ok(tern.wait_for(lambda: b not in ids(home), 20), "SIGALRM (s6-svc -a) retries it at once")
    tap.ok(p.poll() is None, "tern-send survives SIGALRM")
    rules(fd, "* Z 451 4.3.0 try later\n")
    c = queue_one(home, "flush-c", "bob@far.test", "x@far.test")
    tap.ok(tern.wait_for(lambda: log.has("deferral: x@far.test"), 20), "deferred a third time")
    rules(fd, "")
    sm = os.path.join(tern.tmpdir(), "sendmail")
    os.symlink(tern.prog("tern-inject"), sm)
    code, _, err = run([sm, "-q"], home)
    tap.ok(code == 0, "sendmail -q exits 0", err)
    tap.ok(tern.wait_for(lambda: c not in ids(home), 20), "sendmail -q retries it at once")
    code, _, err = run([sm, "-q30m"], home)
    tap.ok(code == 0, "sendmail -q30m (cron's form) is a flush too", err)

    # --- delete by ID while tern-send runs ---
    rules(fd, "* Z 451 4.3.0 try later\n")
    d = queue_one(home, "del-id", "bob@far.test", "w@far.test")
    tap.ok(tern.wait_for(lambda: log.has("deferral: w@far.test"), 20), "a deferred message to delete")
    code, out, err = run([tern.prog("tern-qsuper"), "-d", d], home)
    tap.ok((code, out) == (0, d + ": deleted\n"), "tern-qsuper -d ID", (out, err))
    tap.ok(d not in ids(home) and d not in ids(home, "state"), "its queue file and state file are gone")
    run([tern.prog("tern-qflush")], home)
    tap.ok(tern.wait_for(lambda: log.has("msg %s: no longer in queue/mess" % d), 20),
           "tern-send forgets it when it is next due", log.text())
    n = len(log.lines)
    run([tern.prog("tern-qflush")], home)
    tern.wait_for(lambda: log.count("flush:") >= 4, 10)
    q = queue_one(home, "marker", "bob@far.test", "alice@ex.test")
    tap.ok(tern.wait_for(lambda: q not in ids(home), 20), "a later message still flows")
    tap.ok(not [l for l in log.lines[n:] if d in l], "no warning loop about the deleted message",
           "\n".join(log.lines[n:]))
    code, _, err = run([tern.prog("tern-qsuper"), "-d", d], home)
    tap.is_(code, 100, "deleting an ID not in the queue: exit 100")
    tap.like(err, "not in the queue", "and says so")
    code, _, err = run([tern.prog("tern-qsuper"), "-d", "../../etc"], home)
    tap.is_(code, 100, "an argument that is not an ID is refused")

    # --- delete by pattern ---
    s1 = queue_one(home, "spam1", "spam@bad.test", "v@far.test")
    s2 = queue_one(home, "spam2", "Other@BAD.test", "v@far.test")
    ok = queue_one(home, "ham", "bob@far.test", "v@far.test")
    tap.ok(tern.wait_for(lambda: log.count("deferral: v@far.test") >= 3, 20), "three deferred messages")
    code, out, err = run([tern.prog("tern-qsuper"), "-d", "-s", "*@bad.test"], home)
    tap.ok(code == 0, "tern-qsuper -d -s PATTERN", err)
    tap.is_(sorted(out.split()), sorted([s1 + ":", s2 + ":", "deleted", "deleted"]), "both matching senders (any case) deleted")
    tap.is_(ids(home), [ok], "the other message stays")

    # --- hold and release ---
    code, out, err = run([tern.prog("tern-qsuper"), "-h", "-r", "V@far.*"], home)
    tap.ok((code, out) == (0, ok + ": on hold\n"), "tern-qsuper -h -r PATTERN", (out, err))
    tap.is_(ids(home, "hold"), [ok], "moved to queue/hold")
    code, out, _ = run([tern.prog("tern-qread")], home)
    tap.ok(re.search(r"^%s .* on hold +  <bob@far.test>$" % ok, out, re.M), "listed as on hold", out)
    rules(fd, "")
    tries = subjects(fd).count("ham")
    run([tern.prog("tern-qflush")], home)
    tap.ok(tern.wait_for(lambda: log.has("msg %s: no longer in queue/mess" % ok), 20), "tern-send lets go of it")
    q = queue_one(home, "marker2", "bob@far.test", "alice@ex.test")
    tap.ok(tern.wait_for(lambda: q not in ids(home), 20), "a later message flows past it")
    tap.is_(subjects(fd).count("ham"), tries, "a held message is not tried, even by a flush")
    code, out, err = run([tern.prog("tern-qsuper"), "-H", ok], home)
    tap.ok((code, out) == (0, ok + ": released\n"), "tern-qsuper -H ID", (out, err))
    tap.ok(tern.wait_for(lambda: log.count("info msg " + ok) >= 2, 20), "tern-send loads it again at once")
    tap.is_(ids(home, "hold"), [], "queue/hold is empty")
    run([tern.prog("tern-qflush")], home)
    tap.ok(tern.wait_for(lambda: not ids(home), 20), "released, then flushed: delivered")

    # --- the tools without TERN_HOME (the compiled default is not there) ---
    e = dict(os.environ)
    e.pop("TERN_HOME", None)
    for name in ("tern-qread", "tern-qstat", "tern-qflush"):
        code, out, err = run([tern.prog(name)], home, env=e)
        tap.ok(code == 111 and "/queue" in err and "TERN_HOME" in err, "%s without TERN_HOME fails naming the directory" % name, err)
    tap.is_(tern.stop(p), 0, "tern-send stops")
    code, _, err = run([tern.prog("tern-qflush")], home)
    tap.ok(code == 111 and "not running" in err, "tern-qflush with no tern-send says so", err)


tap.main(main)
