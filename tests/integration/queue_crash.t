#!/usr/bin/env python3
"""tern-queue killed with SIGKILL at many points leaves no half message in
mess/: a kill while the message is being fed (at a chunk chosen at random,
once tern-queue has written what it was given), and a kill before each
file-system call of the commit (tests/lib/faults.py, FAULT_ACTION=kill).

The kill points are reproducible: the seed is printed, and TERN_TEST_SEED
sets it."""
import os
import random
import re
import signal
import subprocess
import time

import tap
import tern
import faults

MSG = b"".join(b"line %05d of the crash test message\n" % i for i in range(3000))
ENV = b"Fsender@x.test\0Trcpt@y.test\0\0"
CHUNK = 4096


def start(home, qid, extra=None):
    mr, mw = os.pipe()
    er, ew = os.pipe()
    e = dict(os.environ, TERN_HOME=home, TERN_QUEUEID=qid)
    e.update(extra or {})
    p = subprocess.Popen([tern.prog("tern-queue")], stdin=mr, stdout=er, stderr=subprocess.DEVNULL, env=e)
    os.close(mr)
    os.close(er)
    return p, mw, ew


def tmp_size(pid, home):
    """The size of the file tern-queue (pid) writes in queue/tmp/, found by
    its descriptor (the file is unnamed, O_TMPFILE, or tmp/ID on a
    filesystem without it); -1 before it is open."""
    tmp = os.path.join(home, "queue", "tmp") + "/"
    fds = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fds):
            try:
                if os.readlink(os.path.join(fds, fd)).startswith(tmp):
                    return os.stat(os.path.join(fds, fd)).st_size
            except OSError:
                pass
    except OSError:
        pass
    return -1


def whole(home, qid):
    """None: not in mess/; True: whole and right; False: anything else."""
    path = os.path.join(home, "queue", "mess", qid[-2:], qid)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    try:
        return tern.parse_queue_file(data) == (MSG, "sender@x.test", ["rcpt@y.test"])
    except ValueError:
        return False


def kill_while_feeding(home, rng, n):
    """Feeds a random number of chunks, waits until tern-queue has written
    them all to its file in queue/tmp/, and kills it."""
    chunks = [MSG[i:i + CHUNK] for i in range(0, len(MSG), CHUNK)]
    bad = []
    for i in range(n):
        qid = "%08x%08x" % (int(time.time()), 0x100 + i)
        killat = rng.randrange(1, len(chunks) + 1)
        p, mw, ew = start(home, qid)
        try:
            for c in chunks[:killat]:
                os.write(mw, c)
            want = min(killat * CHUNK, len(MSG))
            written = tern.wait_for(lambda: tmp_size(p.pid, home) >= want or p.poll() is not None, 20)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
            os.close(mw)
            os.close(ew)
        if not written or p.returncode != -signal.SIGKILL or whole(home, qid) is not None:
            bad.append((qid, killat, written, p.returncode, whole(home, qid)))
    tap.ok(not bad, "%d kills while the message was fed (after 1..%d chunks): nothing in mess/" % (n, len(chunks)), bad)


def feed_all(p, mw, ew):
    """Feeds the envelope and the message; returns the exit status (a
    process killed early makes the writes fail: that is fine)."""
    try:
        os.write(ew, ENV)
        for i in range(0, len(MSG), 65536):
            os.write(mw, MSG[i:i + 65536])
    except OSError:
        pass
    finally:
        os.close(mw)
        os.close(ew)
    return p.wait(30)


def kill_at_each_call(home):
    """Records the calls of a whole run, then kills tern-queue before each
    one in turn: before the link, nothing in mess/; after it, the message
    whole."""
    log = faults.Log()
    qid = "%08x%08x" % (int(time.time()), 0x10000)
    p, mw, ew = start(home, qid, faults.env(log))
    tap.is_(feed_all(p, mw, ew), 0, "recorded run: queued")
    calls = [c for c in log.calls() if c.path.startswith(os.path.join(home, "queue"))]
    link = faults.first(calls, "link", path2="*/queue/mess/*") or faults.first(calls, "rename", path2="*/queue/mess/*")
    tap.ok(link is not None, "the commit is a link into mess/", faults.show(calls))
    seen, bad = {}, []
    for i, c in enumerate(calls):
        # an unnamed file is DIR/#INODE (deleted); its fault is matched
        # against DIR/. (tests/faultinject/faultinject.c)
        pat = re.sub(r"/#[0-9]+ \(deleted\)$", "/*", c.path)
        pat = pat.replace(qid, "*").replace("/mess/" + qid[-2:], "/mess/*")
        seen[(c.family, pat)] = n = seen.get((c.family, pat), 0) + 1
        kid = "%08x%08x" % (int(time.time()), 0x20040 + i)   # a new mess/HH each
        p, mw, ew = start(home, kid, faults.env(None, call=c.family, nth=n, path=pat, prog="tern-queue",
                                                action="kill"))
        code = feed_all(p, mw, ew)
        w = whole(home, kid)
        want = None if link is None or i <= link else True
        if code != -signal.SIGKILL or w is not want:
            bad.append((c.family, n, pat, code, w))
    tap.ok(calls and not bad, "killed before each of the %d calls of the commit: nothing in mess/ before the link, "
           "the whole message after it" % len(calls), bad)


def main():
    seed = int(os.environ.get("TERN_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    tap.note("seed %d (set TERN_TEST_SEED=%d to repeat these kill points)" % (seed, seed))
    rng = random.Random(seed)
    home = tern.make_home()
    tern.make_queue(home)
    kill_while_feeding(home, rng, 20)
    kill_at_each_call(home)
    ok_all, n = True, 0
    for hh in os.listdir(os.path.join(home, "queue", "mess")):
        for qid in os.listdir(os.path.join(home, "queue", "mess", hh)):
            n += 1
            if not whole(home, qid):
                ok_all = False
                tap.note("half or wrong file " + qid)
    tap.ok(ok_all, "every file in mess/ is whole and parses (%d files)" % n)
    tap.note("%d committed, %d tmp leftovers" % (n, len(os.listdir(os.path.join(home, "queue", "tmp")))))


tap.main(main)
