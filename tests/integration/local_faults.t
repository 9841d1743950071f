#!/usr/bin/env python3
"""tern-local's Maildir delivery under fault injection (tests/lib/faults.py):

- the order: the file in tmp/ fsync'd after its last write and before the
  rename into new/, new/ fsync'd after the rename, and the K record written
  for tern-send only after that;
- each of those calls failing in turn: a Z record (deferral) naming what
  failed, nothing in new/ (but for the fsync of new/ itself, where the file
  is there and the at-least-once rule lets it be delivered again: docs/
  delivery.md), nothing left in tmp/;
- through tern-send: the fsync fails once, the recipient is deferred, the
  retry delivers it exactly once and the queue empties."""
import os
import subprocess

import tap
import tern
import deliver
import faults
import queuefile

MSG = b"Subject: to the Maildir\n\nhello\n"


def local(home, qf, out, extra=None):
    """tern-local a@x.test alice@ex.test, the queue file on fd 0, the records
    into the file out; returns (exit code, [(status, text)])."""
    e = deliver.env(home, extra)
    with open(qf, "rb") as fin, open(out, "wb") as fout:
        r = subprocess.run([tern.prog("tern-local"), "a@x.test", "alice@ex.test"], stdin=fin, stdout=fout,
                           stderr=subprocess.PIPE, env=e, timeout=30)
    with open(out, "rb") as f:
        data = f.read()
    recs = [(x[:1].decode(), x[1:].decode(errors="replace")) for x in data.split(b"\0")[:-1]]
    return r.returncode, recs


def md(home, sub):
    return sorted(os.listdir(os.path.join(home, "maildirs", "alice", sub)))


def empty_new(home):
    for n in md(home, "new"):
        os.unlink(os.path.join(home, "maildirs", "alice", "new", n))


def pattern(home, path):
    base = os.path.join(home, "maildirs", "alice") + "/"
    if not path.startswith(base):
        return None
    rest = path[len(base):]
    return "*/maildirs/alice/" + (rest.split("/")[0] + "/*" if "/" in rest else rest)


def order(home, qf, out):
    log = faults.Log()
    code, recs = local(home, qf, out, faults.env(log))
    c = log.calls()
    diag = faults.show(c)
    tap.ok(code == 0 and len(recs) == 1 and recs[0][0] == "K", "recorded run: delivered (K)", (code, recs))
    tap.is_(len(md(home, "new")), 1, "one message in new/")
    cre, writes, sync, mv = faults.published(c, "*/maildirs/alice/tmp/*")
    tap.ok(cre is not None, "written to a new file in the Maildir's tmp/", diag)
    if cre is None:
        return []
    tap.ok(writes and sync is not None and sync > writes[-1], "the file is fsync'd after its last write", diag)
    tap.ok(mv is not None and fnmatch_new(c[mv].path2), "moved into new/ by rename (or link)", diag)
    tap.ok(sync is not None and mv is not None and sync < mv, "the fsync comes before the move", diag)
    dsync = faults.first(c, "fsync", start=(mv or 0) + 1, path=os.path.join(home, "maildirs", "alice", "new*"))
    tap.ok(mv is not None and dsync is not None, "new/ is fsync'd after the move", diag)
    rec = faults.first(c, "write", path=out)
    tap.ok(rec is not None and dsync is not None and rec > dsync and c[rec].data.startswith("K"),
           "the K record is written to tern-send after that", diag)
    steps, seen = [], {}
    for x in c[:rec if rec is not None else len(c)]:
        p = pattern(home, x.path)
        if p is None:
            continue
        seen[(x.family, p)] = seen.get((x.family, p), 0) + 1
        steps.append((x.family, p, seen[(x.family, p)], x.family == "fsync" and x.path.rstrip("/").endswith("/new")))
    return steps


def fnmatch_new(p):
    return "/maildirs/alice/new/" in p


def each_step_fails(home, qf, out, steps):
    for family, pat, nth, is_dirsync in steps:
        name = "%s #%d of %s" % (family, nth, pat)
        empty_new(home)
        log = faults.Log()
        code, recs = local(home, qf, out, faults.env(log, call=family, nth=nth, path=pat, prog="tern-local"))
        fired = any(x.fault for x in log.calls())
        tap.ok(fired and code == 0 and len(recs) == 1 and recs[0][0] == "Z" and "Input/output error" in recs[0][1],
               "%s fails: a Z record (deferral) that says why" % name, (fired, code, recs))
        if is_dirsync:
            tap.is_(len(md(home, "new")), 1, "%s: the file is in new/ (may be delivered again)" % name)
        else:
            tap.is_(md(home, "new"), [], "%s: nothing in new/" % name)
        tap.is_(md(home, "tmp"), [], "%s: nothing left in tmp/" % name)
        empty_new(home)
        code, recs = local(home, qf, out)
        tap.ok(recs[:1] and recs[0][0] == "K" and len(md(home, "new")) == 1, "%s: the next delivery works" % name)


def retried_once(home):
    """Through tern-send: the Maildir fsync fails once; the deferral is
    retried and the message arrives exactly once."""
    empty_new(home)
    log = faults.Log()
    marker = log.marker()
    e = faults.env(log, call="fsync", path="*/maildirs/alice/tmp/*", prog="tern-local", once=marker)
    p, slog = deliver.start_send(home, extra=e)
    tap.is_(deliver.queue(home, MSG, "a@x.test", ["alice@ex.test"]), 0, "queued for tern-send")
    tap.ok(tern.wait_for(lambda: slog.has("success: alice@ex.test"), 20), "delivered at the retry", slog.text()[-2000:])
    tap.ok(os.path.exists(marker) and slog.has("deferral: alice@ex.test: unable to sync the Maildir file"),
           "after a deferral that says the fsync failed", slog.text()[-2000:])
    tap.ok(deliver.wait_queue_empty(home), "the queue empties")
    tap.is_(len(md(home, "new")), 1, "exactly one copy in the Maildir")
    tap.is_(md(home, "tmp"), [], "nothing left in tmp/")
    tap.is_(tern.stop(p), 0, "tern-send stops")


def main():
    home = deliver.instance(users=["alice@ex.test"])
    d = tern.tmpdir()
    qf = queuefile.write(d, MSG, "a@x.test", ["alice@ex.test"])
    out = os.path.join(d, "records")
    steps = order(home, qf, out)
    tap.ok(len(steps) >= 4, "the delivery has its steps (%d calls)" % len(steps))
    each_step_fails(home, qf, out, steps)
    retried_once(home)


tap.main(main)
