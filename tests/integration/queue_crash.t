#!/usr/bin/env python3
"""tern-queue killed with SIGKILL at many points leaves no half message in mess/."""
import os
import random
import signal
import subprocess
import time

import tap
import tern

MSG = b"".join(b"line %05d of the crash test message\n" % i for i in range(3000))
ENV = b"Fsender@x.test\0Trcpt@y.test\0\0"


def attempt(home, slow, delay):
    mr, mw = os.pipe()
    er, ew = os.pipe()
    p = subprocess.Popen([tern.prog("tern-queue")], stdin=mr, stdout=er,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, TERN_HOME=home))
    os.close(mr); os.close(er)
    start = time.monotonic()
    try:
        if slow:
            # feed in chunks and kill at a random chunk
            chunks = [MSG[i:i + 4096] for i in range(0, len(MSG), 4096)]
            killat = random.randrange(len(chunks) + 2)
            for i, c in enumerate(chunks):
                if i == killat:
                    break
                os.write(mw, c)
                time.sleep(0.001)
            else:
                os.close(mw); mw = -1
                os.write(ew, ENV)
        else:
            os.write(ew, ENV)  # small: fits the pipe
            for i in range(0, len(MSG), 65536):
                os.write(mw, MSG[i:i + 65536])
            os.close(mw); mw = -1
            while time.monotonic() - start < delay:
                pass
    except OSError:
        pass
    p.send_signal(signal.SIGKILL)
    p.wait()
    for fd in (mw, ew):
        if fd >= 0:
            os.close(fd)
    return p.returncode


def main():
    home = tern.make_home()
    tern.make_queue(home)
    random.seed(os.getpid())
    killed = 0
    for i in range(60):
        rc = attempt(home, i % 2 == 0, random.uniform(0, 0.03))
        killed += rc == -signal.SIGKILL
    tap.ok(killed > 0, "tern-queue was killed mid-way at least once (%d of 60)" % killed)
    ok_all = True
    n = 0
    for hh in os.listdir(os.path.join(home, "queue", "mess")):
        for qid in os.listdir(os.path.join(home, "queue", "mess", hh)):
            with open(os.path.join(home, "queue", "mess", hh, qid), "rb") as f:
                data = f.read()
            n += 1
            try:
                m, s, r = tern.parse_queue_file(data)
                if m != MSG or s != "sender@x.test" or r != ["rcpt@y.test"]:
                    ok_all = False
                    tap.note("wrong content in " + qid)
            except ValueError as e:
                ok_all = False
                tap.note("half file %s: %s" % (qid, e))
    tap.ok(ok_all, "every file in mess/ is whole and parses (%d files)" % n)
    tap.note("%d committed, %d tmp leftovers" % (n, len(os.listdir(os.path.join(home, "queue", "tmp")))))


tap.main(main)
