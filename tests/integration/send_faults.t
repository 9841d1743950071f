#!/usr/bin/env python3
"""tern-send's state and job files under fault injection (tests/lib/faults.py).
The order of what tern-send (and the tern-local and tern-queue it runs) do:

- a deferral: the records appended to state/HH/ID and fsync'd (the new
  file's directory too) before the outcome is logged, and before the job
  file that held them is emptied;
- a failure: its D record fsync'd before it is logged and before the bounce
  is queued; the B record fsync'd before mess/HH/ID is removed; mess/HH
  fsync'd after that removal and before state/HH/ID is removed;
- a message delivered in one run: no state file, mess/HH/ID removed and
  mess/HH fsync'd before its job file is emptied.

And failures: a state file that cannot be fsync'd is said in the log; a job
file that cannot be made sends the report through a pipe and the mail is
still delivered; a job file that cannot be emptied is dropped and the next
delivery works."""
import os
import time

import tap
import tern
import deliver
import faults


_n = [0]


def queue_one(home, msg, sender, rcpts):
    """Queues msg under an ID chosen here (TERN_QUEUEID): tern-send may be
    done with it before the queue could be listed."""
    _n[0] += 1
    qid = "%08x%08x" % (int(time.time()), 0x10000 + _n[0])
    tap.is_(deliver.queue(home, msg, sender, rcpts, extra={"TERN_QUEUEID": qid}), 0,
            "queued: %s" % msg.split(b"\n")[0].decode())
    return qid


def qpath(home, sub, qid):
    return os.path.join(home, "queue", sub, qid[-2:], qid)


def deferral(home, c, qid):
    st = qpath(home, "state", qid)
    diag = faults.show(c)
    mk = faults.first(c, "open", path=st)
    recs = faults.find(c, "write", path=st)
    sync = faults.first(c, "fsync", path=st)
    dsync = faults.first(c, "fsync", start=(mk or 0) + 1, path=os.path.dirname(st))
    ok_log = faults.first(c, "write", prog="tern-send", data="success: alice@ex.test")
    z_log = faults.first(c, "write", prog="tern-send", data="deferral: ghost@ex.test")
    with open(st) as f:
        lines = f.read().splitlines()
    tap.ok(mk is not None and recs and [l[:4] for l in lines] == ["K 0 ", "Z 1 "],
           "deferral: K and Z records written to state/HH/ID", (lines, diag))
    tap.ok(sync is not None and recs and sync > recs[-1], "and fsync'd", diag)
    tap.ok(dsync is not None, "the new state file's directory fsync'd", diag)
    tap.ok(None not in (sync, dsync, ok_log, z_log) and max(sync, dsync) < min(ok_log, z_log),
           "both before the outcome is logged", diag)
    ran = faults.last(c, "write", prog="tern-local", path="*/queue/job/*")
    job = faults.first(c, "ftruncate", start=(ran or 0) + 1, path="*/queue/job/*")
    tap.ok(job is not None and sync is not None and job > sync, "the job file is emptied only after the fsync", diag)


def bounce(home, c, qid):
    st, ms = qpath(home, "state", qid), qpath(home, "mess", qid)
    diag = faults.show(c)
    d_rec = faults.first(c, "write", path=st, data="D 0 ")
    d_sync = faults.first(c, "fsync", start=(d_rec or 0) + 1, path=st)
    d_log = faults.first(c, "write", prog="tern-send", data="failure: nobody@ex.test")
    bq = faults.first(c, "open", prog="tern-queue", path="*/queue/tmp/*")
    b_rec = faults.first(c, "write", path=st, data="B 0 ")
    b_sync = faults.first(c, "fsync", start=(b_rec or 0) + 1, path=st)
    rm_mess = faults.first(c, "unlink", path=ms)
    m_sync = faults.first(c, "fsync", start=(rm_mess or 0) + 1, path=os.path.dirname(ms))
    rm_state = faults.first(c, "unlink", path=st)
    tap.ok(None not in (d_sync, d_log) and d_sync < d_log, "failure: the D record fsync'd before it is logged", diag)
    tap.ok(None not in (d_sync, bq) and d_sync < bq, "and before the bounce is queued", diag)
    tap.ok(None not in (bq, b_rec) and bq < b_rec, "the B record written once the bounce is queued", diag)
    tap.ok(None not in (b_sync, rm_mess) and b_sync < rm_mess, "and fsync'd before mess/HH/ID is removed", diag)
    tap.ok(None not in (m_sync, rm_state) and m_sync < rm_state,
           "mess/HH fsync'd after that removal, before state/HH/ID is removed", diag)


def one_run(home, c, qid):
    ms = qpath(home, "mess", qid)
    diag = faults.show(c)
    tap.is_(faults.first(c, "open", path="*/queue/state/*/" + qid), None, "delivered in one run: no state file")
    rm = faults.first(c, "unlink", path=ms)
    m_sync = faults.first(c, "fsync", start=(rm or 0) + 1, path=os.path.dirname(ms))
    job = faults.first(c, "ftruncate", start=(rm or 0), path="*/queue/job/*")
    tap.ok(None not in (rm, m_sync, job) and m_sync < job,
           "mess/HH/ID removed and mess/HH fsync'd before the job file is emptied", diag)


def recorded(home):
    log = faults.Log()
    p, slog = deliver.start_send(home, extra=faults.env(log))
    q1 = queue_one(home, b"Subject: one deferred\n\nx\n", "x@far.test", ["alice@ex.test", "ghost@ex.test"])
    tap.ok(tern.wait_for(lambda: slog.has("deferral: ghost@ex.test") and slog.has("success: alice@ex.test")),
           "alice delivered, ghost deferred", slog.text())
    deferral(home, log.calls(), q1)
    log.clear()
    q2 = queue_one(home, b"Subject: to nobody\n\nx\n", "alice@ex.test", ["nobody@ex.test"])
    tap.ok(tern.wait_for(lambda: slog.has("end msg " + q2)), "the failed message ends", slog.text())
    tap.ok(deliver.wait_maildir(home, "alice", 2), "with a bounce in the sender's Maildir")
    bounce(home, log.calls(), q2)
    tern.wait_for(lambda: slog.count("end msg ") >= 2)   # the bounce's own delivery
    log.clear()
    q3 = queue_one(home, b"Subject: at once\n\nx\n", "x@far.test", ["alice@ex.test"])
    tap.ok(tern.wait_for(lambda: slog.has("end msg " + q3)), "delivered in one run", slog.text())
    tap.ok(tern.wait_for(lambda: faults.first(log.calls(), "ftruncate", path="*/queue/job/*") is not None),
           "its job file emptied")
    one_run(home, log.calls(), q3)
    tap.is_(tern.stop(p), 0, "tern-send stops")


def state_fsync_fails(home):
    p, slog = deliver.start_send(home, extra=faults.env(None, call="fsync", nth=0, path="*/queue/state/*",
                                                        prog="tern-send"))
    q = queue_one(home, b"Subject: state fails\n\nx\n", "x@far.test", ["alice@ex.test", "ghost@ex.test"])
    tap.ok(tern.wait_for(lambda: slog.has("unable to record the results of msg %s" % q)),
           "a state file that cannot be fsync'd: the log says so", slog.text())
    tap.is_(tern.stop(p), 0, "tern-send stops")


def job_file_fails(home):
    n = len(deliver.maildir_new(home, "alice"))
    p, slog = deliver.start_send(home, extra=faults.env(None, call="open", nth=0, path="*/queue/job/*",
                                                        prog="tern-send"))
    q = queue_one(home, b"Subject: no job file\n\nx\n", "x@far.test", ["alice@ex.test"])
    tap.ok(tern.wait_for(lambda: slog.has("end msg " + q)), "no job file can be made: delivered all the same",
           slog.text())
    tap.ok(slog.has("unable to write a job file for msg %s: its report comes through a pipe" % q), "the log says so")
    tap.is_(len(deliver.maildir_new(home, "alice")), n + 1, "one copy")
    tap.is_(tern.stop(p), 0, "tern-send stops")

    p, slog = deliver.start_send(home, extra=faults.env(None, call="ftruncate", path="*/queue/job/*",
                                                        prog="tern-send"))
    q1 = queue_one(home, b"Subject: cannot empty\n\nx\n", "x@far.test", ["alice@ex.test"])
    tap.ok(tern.wait_for(lambda: slog.has("end msg " + q1)), "the first delivery ends", slog.text())
    tap.ok(slog.has("unable to empty "), "a job file that cannot be emptied: the log says so", slog.text())
    q2 = queue_one(home, b"Subject: next\n\nx\n", "x@far.test", ["alice@ex.test"])
    tap.ok(tern.wait_for(lambda: slog.has("end msg " + q2)), "and the next delivery works", slog.text())
    tap.is_(len(deliver.maildir_new(home, "alice")), n + 3, "one copy of each")
    tap.is_(tern.stop(p), 0, "tern-send stops")


def main():
    home = deliver.instance(users=["alice@ex.test", "ghost@ex.test"], control={"retryschedule": "3600"})
    os.rename(os.path.join(home, "maildirs", "ghost"), os.path.join(home, "maildirs", "ghost.gone"))
    recorded(home)
    state_fsync_fails(home)
    job_file_fails(home)


tap.main(main)
