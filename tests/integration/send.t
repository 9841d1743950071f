#!/usr/bin/env python3
"""tern-send with a stand-in tern-remote: grouping by domain, retries of 4xx,
bounces of 5xx (RFC 3464) while the others are delivered, double bounces,
tern-qstat and tern-qread."""
import os
import signal
import subprocess

import tap
import tern
import deliver


def run(argv, home):
    r = subprocess.run(argv, env=deliver.env(home), capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def main():
    home = deliver.instance(users=["alice@ex.test", "pm@ex.test"], control={"doublebounceto": "pm@ex.test"})
    fb, fd = deliver.fake_remote(
        "z@far.test Z 451 4.3.0 mx.far.test [127.0.0.2] said: try later\n"
        "bad@far.test D 550 5.1.1 mx.far.test [127.0.0.2] said: no such user\n"
        "gone@far.test D 550 5.1.1 no\n")
    p, log = deliver.start_send(home, extra={"FAKE_REMOTE_DIR": fd}, path_first=fb)

    # one run per domain, local recipients through tern-local
    deliver.queue(home, b"Subject: group\n\nx\n", "alice@ex.test",
                  ["a@far.test", "alice@ex.test", "B@Far.test", "c@other.test"])
    tap.ok(tern.wait_for(lambda: len(deliver.runs(fd)) >= 2 and deliver.maildir_new(home, "alice")), "delivered")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    rs = sorted(deliver.runs(fd), key=lambda r: r["domain"])
    tap.is_([(r["domain"], r["rcpts"]) for r in rs],
            [("far.test", ["a@far.test", "B@Far.test"]), ("other.test", ["c@other.test"])],
            "recipients of one domain go in one tern-remote run")
    tap.is_(rs[0]["sender"], "alice@ex.test", "sender passed on")

    # 5xx for one recipient: bounced with RFC 3464; the others delivered
    deliver.queue(home, b"From: alice@ex.test\nSubject: mixed\n\nbody\n", "alice@ex.test",
                  ["good@far.test", "bad@far.test", "good2@far.test"])
    tap.ok(deliver.wait_maildir(home, "alice", 2), "bounce arrives in the sender's Maildir")
    tap.ok(deliver.wait_queue_empty(home), "message done")
    b = deliver.maildir_new(home, "alice")[-1]
    tap.like(b, b"Return-Path: <>", "null sender")
    tap.like(b, b"To: <alice@ex.test>", "to the sender")
    tap.like(b, b"Content-Type: multipart/report; report-type=delivery-status;", "multipart/report")
    tap.like(b, b"Content-Type: message/delivery-status", "delivery-status part")
    tap.like(b, b"Final-Recipient: rfc822; bad@far.test\nAction: failed\nStatus: 5.1.1\n"
                b"Diagnostic-Code: smtp; 550 5.1.1 mx.far.test [127.0.0.2] said: no such user\n",
             "per-recipient status with the remote's text")
    tap.ok(b"good@far.test" not in b, "delivered recipients are not in the bounce")
    tap.like(b, b"Subject: mixed\n", "original headers")
    tap.ok(b"body" not in b.split(b"text/rfc822-headers")[1], "original body left out")
    mixed = [r for r in deliver.runs(fd) if r["subject"] == "mixed"]
    tap.is_(len(mixed), 1, "one transaction for the three recipients")
    tap.ok(log.has("failure: bad@far.test: 550 5.1.1") and log.has("success: good@far.test: 250 ok"),
           "log lines for success and failure")
    tap.ok(log.has("bounce msg "), "bounce logged")

    # 4xx: stays queued, retried, visible in tern-qstat and tern-qread
    deliver.queue(home, b"Subject: slow\n\nx\n", "alice@ex.test", ["z@far.test"])
    tap.ok(tern.wait_for(lambda: log.count("deferral: z@far.test: 451 4.3.0") >= 2, 20), "4xx deferred and retried")
    code, out, _ = run([tern.prog("tern-qstat")], home)
    tap.like(out, "messages in queue: 1\n", "tern-qstat counts it")
    code, out, _ = run([tern.prog("tern-qread")], home)
    tap.like(out, "  <alice@ex.test>\n\tremote\tz@far.test\t(", "tern-qread lists the pending recipient")
    tap.like(out, "; last: 451 4.3.0 mx.far.test", "with the last error")
    with open(os.path.join(fd, "rules"), "w") as f:
        f.write("")
    tap.ok(deliver.wait_queue_empty(home), "delivered on a later try")
    tap.ok(tern.wait_for(lambda: log.has("success: z@far.test")), "success after deferrals")
    code, out, _ = run([tern.prog("tern-qstat")], home)
    tap.like(out, "messages in queue: 0\n", "tern-qstat: empty")

    # a null-sender message that fails: double bounce to doublebounceto
    with open(os.path.join(fd, "rules"), "w") as f:
        f.write("gone@far.test D 550 5.1.1 no\n")
    deliver.queue(home, b"Subject: dsn\n\nx\n", "", ["gone@far.test"])
    tap.ok(deliver.wait_maildir(home, "pm", 1), "double bounce to doublebounceto")
    db = (deliver.maildir_new(home, "pm") or [b""])[0]
    tap.ok(db.startswith(b"Return-Path: <#@[]>\n") and b"Final-Recipient: rfc822; gone@far.test" in db,
           "from the double-bounce sender #@[] (its own failure is never bounced), about gone@far.test", db[:300])
    tap.ok(deliver.wait_queue_empty(home), "done")
    # a failed double bounce is dropped with a log line
    deliver.queue(home, b"Subject: dsn2\n\nx\n", "#@[]", ["gone@far.test"])
    tap.ok(tern.wait_for(lambda: log.has("dropping the failure notice of msg")), "failed double bounce dropped, logged")
    tap.ok(deliver.wait_queue_empty(home), "and removed")
    tap.is_(len(deliver.maildir_new(home, "pm")), 1, "no further bounce")
    tern.stop(p)

    # queuelifetime: a temporary failure past it bounces with 4.4.7
    home = deliver.instance(users=["alice@ex.test"], control={"queuelifetime": "2"})
    fb, fd = deliver.fake_remote("* Z 421 4.4.2 connection dropped\n")
    p, log = deliver.start_send(home, extra={"FAKE_REMOTE_DIR": fd}, path_first=fb)
    deliver.queue(home, b"Subject: old\n\nx\n", "alice@ex.test", ["x@far.test"])
    tap.ok(deliver.wait_maildir(home, "alice", 1), "expired message bounced")
    b = (deliver.maildir_new(home, "alice") or [b""])[0]
    tap.like(b, b"Status: 4.4.7\nDiagnostic-Code: smtp; 421 4.4.2 connection dropped", "expiry status and last error")
    tap.like(b, b"message expired", "expiry explained")
    tap.ok(len(deliver.runs(fd)) >= 2, "retried before expiring")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    tern.stop(p)

    # SIGTERM while a delivery hangs: tern-send still exits promptly; the
    # next tern-send waits for that run's result instead of starting the
    # same delivery again
    home = deliver.instance(users=["alice@ex.test"])
    fb, fd = deliver.fake_remote("")
    with open(os.path.join(fd, "sleep"), "w") as f:
        f.write("9")
    p, log = deliver.start_send(home, extra={"FAKE_REMOTE_DIR": fd}, path_first=fb)
    deliver.queue(home, b"Subject: hang\n\nx\n", "alice@ex.test", ["x@far.test"])
    tap.ok(tern.wait_for(lambda: log.has("starting delivery 1: msg")), "delivery started")
    os.kill(p.pid, signal.SIGTERM)
    try:
        code = p.wait(30)
    except subprocess.TimeoutExpired:
        code = None
    tap.is_(code, 0, "tern-send exits 0 after SIGTERM although a delivery hangs")
    tap.ok(tern.wait_for(lambda: log.has("deliveries still running")), "and says what it left running")
    os.unlink(os.path.join(fd, "sleep"))
    p, log = deliver.start_send(home, extra={"FAKE_REMOTE_DIR": fd}, path_first=fb)
    tap.ok(tern.wait_for(lambda: log.has("started by an earlier tern-send is still running")),
           "the next tern-send waits for the run it finds still going")
    tap.ok(deliver.wait_queue_empty(home, 30), "delivered once that run ends")
    tap.ok(tern.wait_for(lambda: log.has("success: x@far.test: 250 ok"), 10), "its result logged by the new tern-send")
    tap.is_(len(deliver.runs(fd)), 1, "the message was sent once, not again by the new tern-send")


tap.main(main)
