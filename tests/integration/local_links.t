#!/usr/bin/env python3
"""tern-local and Maildirs whose owner planted symbolic links: a Maildir,
its tmp/ or its new/ that is a link (to another user's Maildir, or
anywhere), or that others may write, is refused with a temporary failure
that says why, and nothing is written through it."""
import os
import subprocess
import tempfile

import tap
import tern
import deliver

USERS = ["alice", "carol", "dave", "eve", "frank"]


def queue_file(message, sender, rcpts):
    env = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
    f = tempfile.TemporaryFile()
    f.write(message + env + b"%020d\n" % len(message))
    f.flush()
    f.seek(0)
    return f


def run_local(home, rcpts):
    """tern-local with a queue file on fd 0; returns (exit, {rcpt: (status, text)})."""
    msg = b"Subject: links\n\nbody\n"
    with queue_file(msg, "x@far.test", rcpts) as f:
        r = subprocess.run([tern.prog("tern-local"), "x@far.test"] + rcpts, stdin=f, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=deliver.env(home), timeout=30)
    recs = [x.decode(errors="replace") for x in r.stdout.split(b"\0")[:-1]]
    return r.returncode, {a: (t[:1], t[1:]) for a, t in zip(rcpts, recs)}


def files(d):
    return [f for f in os.listdir(d) if not f.startswith(".")]


def main():
    home = deliver.instance(users=["%s@ex.test" % u for u in USERS])
    md = lambda u, *sub: os.path.join(home, "maildirs", u, *sub)
    elsewhere = tern.tmpdir("tern-elsewhere-")
    os.makedirs(os.path.join(elsewhere, "tmp"))
    os.makedirs(os.path.join(elsewhere, "new"))
    # carol's new/ is alice's; dave's tmp/ is a directory elsewhere; eve's
    # Maildir itself is a link to alice's; frank's new/ anyone may write
    os.rmdir(md("carol", "new"))
    os.symlink(md("alice", "new"), md("carol", "new"))
    os.rmdir(md("dave", "tmp"))
    os.symlink(os.path.join(elsewhere, "tmp"), md("dave", "tmp"))
    for sub in ("tmp", "new", "cur"):
        os.rmdir(md("eve", sub))
    os.rmdir(md("eve"))
    os.symlink(md("alice"), md("eve"))
    os.chmod(md("frank", "new"), 0o777)

    rcpts = ["%s@ex.test" % u for u in USERS]
    code, res = run_local(home, rcpts)
    tap.is_(code, 0, "tern-local exits 0 (one record per recipient)")
    tap.is_(res.get("alice@ex.test", ("?",))[0], "K", "alice, an ordinary Maildir: delivered")
    for u, why in (("carol", "new/ a link to alice's new/"), ("dave", "tmp/ a link elsewhere"),
                   ("eve", "the Maildir a link to alice's")):
        st, text = res.get(u + "@ex.test", ("?", ""))
        tap.ok(st == "Z" and "symbolic link" in text and "refused" in text,
               "%s (%s): temporary failure that says why" % (u, why), "%s %s" % (st, text))
    st, text = res.get("frank@ex.test", ("?", ""))
    tap.ok(st == "Z" and "others may write it" in text, "frank (new/ writable by anyone): refused", "%s %s" % (st, text))
    tap.is_(len(files(md("alice", "new"))), 1, "alice's new/ holds alice's copy only: nothing came through carol's or eve's links")
    tap.is_(files(os.path.join(elsewhere, "tmp")) + files(os.path.join(elsewhere, "new")), [],
            "nothing written into the directory dave's tmp/ points to")
    tap.is_(files(md("frank", "new")) + files(md("frank", "tmp")), [], "nothing written into frank's Maildir")
    tap.is_([u for u in ("alice", "carol", "frank") if files(md(u, "tmp"))], [], "no temporary file left behind")


tap.main(main)
