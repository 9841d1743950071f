#!/usr/bin/env python3
"""Disk full, end to end through SMTP: a full queue gives 4xx at DATA and
leaves nothing half-written; a full Maildir defers. Both recover on their own
(same tern-smtpd server, same tern-send) once space returns. Needs root for
the small tmpfs mounts; skips otherwise."""
import os
import smtplib

import tap
import tern
import deliver


def fill(d):
    """Fills the filesystem of d with one file; returns its path."""
    path = os.path.join(d, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    os.close(fd)
    return path


def send(port, rcpt, body="hello"):
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    try:
        s.sendmail("a@far.test", [rcpt], "Subject: full\r\n\r\n%s\r\n" % body)
        return 250, b""
    except smtplib.SMTPDataError as e:
        return e.smtp_code, e.smtp_error
    finally:
        s.close()


def listing(home, sub):
    out = []
    for root, _, files in os.walk(os.path.join(home, "queue", sub)):
        out += files
    return out


def main():
    home = deliver.instance(users=["alice@ex.test", "bob@ex.test"], control={"rcpthosts": ["ex.test"]})
    q = os.path.join(home, "queue")
    if not tern.mount_tmpfs(q, "256k"):
        tap.skip_all("cannot mount a small tmpfs (needs root)")
    tern.make_queue(home)
    md = os.path.join(home, "maildirs", "bob")
    if not tern.mount_tmpfs(md, "256k"):
        tap.skip_all("cannot mount a small tmpfs (needs root)")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub))
    env = deliver.env(home)
    _, port, log = tern.tcpserver([tern.prog("tern-smtpd")], env=env)
    p, slog = deliver.start_send(home)

    # the queue: 4xx at DATA, nothing half-written, then accepted again
    filler = fill(q)
    code, text = send(port, "alice@ex.test")
    tap.ok(400 <= code < 500, "full queue: %d at DATA (temporary)" % code, text)
    tap.is_(listing(home, "tmp"), [], "nothing half-written in queue/tmp")
    tap.is_(listing(home, "mess"), [], "nothing committed in queue/mess")
    os.unlink(filler)
    tap.is_(send(port, "alice@ex.test")[0], 250, "space back: the same server accepts it")
    tap.ok(deliver.wait_maildir(home, "alice", 1), "and the same tern-send delivers it")

    # the Maildir: deferred, never bounced nor half-delivered, then delivered
    filler = fill(md)
    tap.is_(send(port, "bob@ex.test", "x" * 20000)[0], 250, "accepted for a user whose Maildir is full")
    tap.ok(tern.wait_for(lambda: slog.count("deferral: bob@ex.test") >= 2, 20),
           "full Maildir: deferred and retried", slog.text()[-1500:])
    tap.is_(os.listdir(os.path.join(md, "new")), [], "nothing in new/")
    tap.ok(not slog.has("failure: bob@ex.test"), "not bounced")
    os.unlink(filler)
    tap.ok(deliver.wait_maildir(home, "bob", 1), "space back: delivered without a restart")
    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    tap.like(deliver.maildir_new(home, "bob")[0] if deliver.maildir_new(home, "bob") else b"", b"x" * 20000,
             "the whole message")
    tap.is_(tern.stop(p), 0, "tern-send stops cleanly")

    # the queue's disk full while mail waits: no job file can be made, the
    # reports come through pipes, and the backlog drains (which frees the
    # disk) with each message delivered once
    for i in range(3):
        tap.is_(deliver.queue(home, "Subject: backlog %d\n\nb\n" % i, "a@far.test", ["alice@ex.test"]), 0,
                "backlog message %d queued" % i)
    filler = fill(q)
    p, slog = deliver.start_send(home)
    tap.ok(deliver.wait_queue_empty(home), "full queue disk: the backlog drains", slog.text()[-1500:])
    got = [m for m in deliver.maildir_new(home, "alice") if b"Subject: backlog" in m]
    tap.is_(len(got), 3, "each backlog message delivered once")
    tap.ok(slog.has("its report comes through a pipe"), "the log says why no job file was made")
    tap.is_(os.listdir(os.path.join(q, "job")), [], "no job file left")
    os.unlink(filler)
    tap.is_(tern.stop(p), 0, "tern-send stops cleanly")


tap.main(main)
