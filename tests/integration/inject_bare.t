#!/usr/bin/env python3
"""Bare names from tern-inject/sendmail go to the instance's own domain
(issue 15; qmail's defaulthost/defaultdomain/plusdomain): cron-style
`sendmail root` reaches root's alias, in a plain instance and in the one
tern-setup makes (control/me is the host, the users live in the domain)."""
import os
import subprocess

import tap
import tern
import deliver


def sendmail(home, args, data, extra=None):
    b = tern.tmpdir("tern-sm-")
    sm = os.path.join(b, "sendmail")
    os.symlink(tern.prog("tern-inject"), sm)
    return subprocess.run([sm] + args, input=data, capture_output=True,
                          env=deliver.env(home, dict({"LOGNAME": "cron"}, **(extra or {}))), timeout=60)


def maildir_count(path):
    try:
        return len(os.listdir(os.path.join(path, "new")))
    except FileNotFoundError:
        return 0


def plain():
    home = deliver.instance(users=["alice@ex.test", "bob@ex.test"],
                            aliases="root@ex.test: alice@ex.test\n",
                            control={"me": "mx.ex.test", "locals": ["ex.test", "mx.ex.test"],
                                     "defaultdomain": "ex.test"})
    p, log = deliver.start_send(home)
    r = sendmail(home, [], b"Subject: cron\n\nnightly output\n", {})
    tap.ok(r.returncode != 0, "no recipient: refused", r.stderr)
    r = sendmail(home, ["root"], b"Subject: Cron <root@host> run-parts\n\nnightly output\n")
    tap.is_(r.returncode, 0, "sendmail root exits 0", )
    tap.ok(deliver.wait_maildir(home, "alice", 1), "root@defaultdomain: delivered through root's alias", log.text()[-2000:])
    tap.ok(log.has("to=<root@ex.test>") or log.has("root@ex.test"), "the envelope names root@ex.test", log.text()[-2000:])
    m = deliver.maildir_new(home, "alice")[0]
    tap.like(m, b"Return-Path: <cron@ex.test>", "the default sender is the login at the same domain")
    r = sendmail(home, ["bob@mx"], b"Subject: two\n\nx\n")
    tap.is_(r.returncode, 0, "sendmail bob@mx (a host without a dot)")
    tap.ok(tern.wait_for(lambda: log.has("bob@mx.ex.test"), 20), "host without a dot gets .defaultdomain", log.text()[-2000:])
    with open(os.path.join(home, "control", "defaulthost"), "w") as f:
        f.write("ex.test\n")
    with open(os.path.join(home, "control", "defaultdomain"), "w") as f:
        f.write("elsewhere.test\n")
    r = sendmail(home, ["bob"], b"Subject: three\n\nx\n")
    tap.is_(r.returncode, 0, "sendmail bob with defaulthost set")
    tap.ok(deliver.wait_maildir(home, "bob", 1), "defaulthost wins over defaultdomain", log.text()[-2000:])
    tern.stop(p)


def setup_instance():
    d = os.path.join(tern.tmpdir("tern-setup-"), "inst")
    r = subprocess.run([tern.prog("tern-setup"), "-i", "127.0.0.1", "-u", "-o", str(tern.free_port() % 20000 + 10000), d],
                       capture_output=True, text=True, timeout=120)
    tap.ok(r.returncode == 0, "tern-setup makes an instance", r.stderr)
    with open(os.path.join(d, "control", "me")) as f:
        me = f.read().strip()
    tap.is_(me, "mail.tern.test", "its control/me is the host name")
    p, log = deliver.start_send(d)
    md = os.path.join(d, "mail", "demo", "Maildir")
    r = sendmail(d, ["root"], b"Subject: Cron <root@mail> backup\n\nbackup done\n")
    tap.ok(r.returncode == 0, "cron-style sendmail root on the tern-setup instance", r.stderr)
    tap.ok(tern.wait_for(lambda: maildir_count(md) >= 1, 30),
           "root -> root@tern.test -> postmaster -> demo's Maildir (no double bounce)", log.text()[-3000:])
    files = sorted(os.listdir(os.path.join(md, "new"))) if maildir_count(md) else []
    body = open(os.path.join(md, "new", files[0]), "rb").read() if files else b""
    tap.ok(b"\nbackup done\n" in body and b"Delivered-To: root@tern.test" in body,
           "the message itself, delivered to root@tern.test (not a bounce)", body[:1500])
    tap.ok(not log.has("double bounce"), "no double bounce", log.text()[-3000:])
    tern.stop(p)


def main():
    plain()
    setup_instance()


tap.main(main)
