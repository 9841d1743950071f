#!/usr/bin/env python3
"""tern-queue: the qmail-queue interface, exit codes, trigger, queue file format."""
import os
import stat
import subprocess
import threading

import tap
import tern


def run_queue(home, message, envelope, env=None):
    """Runs tern-queue with message on fd 0 and envelope on fd 1; returns (code, stderr)."""
    mr, mw = os.pipe()
    er, ew = os.pipe()
    e = dict(os.environ, TERN_HOME=home)
    e.update(env or {})
    p = subprocess.Popen([tern.prog("tern-queue")], stdin=mr, stdout=er,
                         stderr=subprocess.PIPE, env=e)
    os.close(mr)
    os.close(er)

    def feed(fd, data):
        try:
            os.write(fd, data) if len(data) < 4096 else [os.write(fd, data[i:i + 4096]) for i in range(0, len(data), 4096)]
        except OSError:
            pass
        os.close(fd)
    t1 = threading.Thread(target=feed, args=(mw, message))
    t2 = threading.Thread(target=feed, args=(ew, envelope))
    t1.start(); t2.start()
    err = p.stderr.read()
    p.wait(30)
    t1.join(); t2.join()
    return p.returncode, err.decode(errors="replace")


def fresh_home():
    home = tern.make_home()
    tern.make_queue(home)
    return home


def tmp_empty(home):
    return os.listdir(os.path.join(home, "queue", "tmp")) == []


def main():
    home = fresh_home()
    msg = b"Subject: hi\n\nhello\n.dot stays\n"
    code, err = run_queue(home, msg, b"Fa@x.test\0Tb@y.test\0Tc@z.test\0\0")
    tap.is_(code, 0, "a message is queued (exit 0)")
    q = tern.queued_messages(home)
    tap.is_(len(q), 1, "one file in mess/")
    qid, m, s, r = q[0]
    tap.is_(m, msg, "message stored byte for byte")
    tap.is_((s, r), ("a@x.test", ["b@y.test", "c@z.test"]), "envelope stored")
    tap.ok(len(qid) == 16 and all(c in "0123456789abcdef" for c in qid), "ID is 16 lowercase hex digits")
    tap.ok(os.path.isfile(os.path.join(home, "queue", "mess", qid[-2:], qid)), "file is in mess/HH with HH the ID's last two digits")
    tap.ok(tmp_empty(home), "tmp/ is empty after the commit")

    code, _ = run_queue(home, b"x\n", b"F\0Tb@y.test\0\0", {"TERN_QUEUEID": "00000001deadbeef"})
    tap.is_(code, 0, "null sender queued")
    tap.ok(os.path.exists(os.path.join(home, "queue/mess/ef/00000001deadbeef")), "a proposed valid ID is used")
    code, _ = run_queue(home, b"x\n", b"Fa@b\0Tb@y.test\0\0", {"TERN_QUEUEID": "../../etc/passwdx"})
    tap.is_(code, 0, "an invalid proposed ID is ignored, not refused")
    tap.ok(not os.path.exists(os.path.join(home, "etc")), "and it names no path")
    code, _ = run_queue(home, b"x\n", b"F\0Tb@y.test\0\0", {"TERN_QUEUEID": "00000001deadbeef"})
    tap.is_(code, 0, "a proposed ID already taken: another is picked")
    tap.is_(len(tern.queued_messages(home)), 4, "four messages queued, none overwritten")

    # Envelope errors leave nothing behind.
    for env, want, name in [
        (b"Xa@b\0Tc@d\0\0", 91, "bad sender tag"),
        (b"Fa@b\0Xc@d\0\0", 91, "bad recipient tag"),
        (b"Fa@b\0\0", 91, "no recipient"),
        (b"Fa@b\0Tc@d\0", 54, "envelope cut short"),
        (b"", 54, "no envelope at all"),
        (b"F" + b"a" * 2000 + b"\0Tc@d\0\0", 11, "sender too long"),
        (b"Fa@b\0T" + b"c" * 2000 + b"\0\0", 11, "recipient too long"),
    ]:
        h = fresh_home()
        code, err = run_queue(h, b"m\n", env)
        tap.is_(code, want, "%s: exit %d" % (name, want))
        tap.ok(tern.queued_messages(h) == [] and tmp_empty(h), "%s: nothing left in the queue" % name)
    tap.like(err, "tern-queue: warning:", "errors are logged with the program's name")

    code, _ = run_queue(os.path.join(home, "nonexistent"), b"m\n", b"Fa\0Tb\0\0")
    tap.is_(code, 61, "missing TERN_HOME: exit 61")
    h = tern.make_home()
    code, _ = run_queue(h, b"m\n", b"Fa\0Tb\0\0")
    tap.is_(code, 62, "missing queue/: exit 62")

    # The trigger: the new message's ID for a listener; no listener does not block.
    h = fresh_home()
    fifo = os.path.join(h, "queue", "trigger")
    os.mkfifo(fifo, 0o622)
    code, _ = run_queue(h, b"m\n", b"Fa\0Tb\0\0")
    tap.is_(code, 0, "queued with a trigger fifo nobody reads")
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    code, _ = run_queue(h, b"m\n", b"Fa\0Tb\0\0")
    got = os.read(rfd, 100)
    os.close(rfd)
    tap.ok(len(got) == 17 and got.endswith(b"\n") and
           os.path.exists(os.path.join(h, "queue", "mess", got[14:16].decode(), got[:16].decode())),
           "a listener on the trigger gets the new message's ID and a newline (%r)" % got)

    # A large message streams through.
    big = (b"x" * 999 + b"\n") * 3000
    code, _ = run_queue(h, big, b"Fa\0Tb\0\0")
    tap.is_(code, 0, "3 MB message queued")
    tap.ok(any(m == big for _, m, _, _ in tern.queued_messages(h)), "and stored whole")
    st = os.stat(os.path.join(h, "queue", "mess"))
    tap.ok(stat.S_ISDIR(st.st_mode), "mess/ is a directory")

    # Disk full: a small tmpfs over the queue.
    h = fresh_home()
    q = os.path.join(h, "queue")
    if tern.mount_tmpfs(q, "64k"):
        tern.make_queue(h)
        code, err = run_queue(h, b"y" * 200000, b"Fa\0Tb\0\0")
        tap.is_(code, 53, "disk full: exit 53")
        tap.ok(tern.queued_messages(h) == [] and tmp_empty(h), "disk full: nothing half-written left")
        code, _ = run_queue(h, b"small\n", b"Fa\0Tb\0\0")
        tap.is_(code, 0, "the same queue takes a small message afterwards")
    else:
        tap.ok(True, "# SKIP disk-full test needs root to mount a tmpfs")


tap.main(main)
