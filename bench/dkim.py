#!/usr/bin/python3
"""bench/dkim.py: the CPU cost of DKIM signing per message (docs/dkim.md).

Runs the queue path N times per variant, each run a fresh process tree as
tern-smtpd starts it (message on fd 0, envelope on fd 1), and sums the CPU
time (user + system) of all the children from getrusage(RUSAGE_CHILDREN):

  direct      tern-queue alone (the baseline)
  stranger    tern-dkimsign with no trust: it execs tern-queue unread
  trusted     trusted, but control/dkimdomains has no rule for the domain
  rsa-2048    signed with a 2048-bit RSA key
  ed25519     signed with an Ed25519 key
  both        two signatures (rsa-2048 and ed25519)

The queue is a temporary directory on the same disk as the build; tern-queue
fsyncs as it does in service (wall time is the disk's, CPU time is ours).

    bench/dkim.py [N] [BINDIR]     (default 1000, build/bin)
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[2] if len(sys.argv) > 2 else os.path.join(TOP, "build", "bin")
BODY = b"".join(b"Line %d of a message body that is about two kilobytes long, as mail often is.\n" % i
                for i in range(25))
ENVELOPE = b"Fjoe@%s\0Tyou@far.test\0\0"


def message(domain):
    return (b"From: Joe <joe@%s>\nTo: You <you@far.test>\nSubject: a benchmark\n"
            b"Date: Fri, 04 Dec 2026 12:00:00 +0000\nMessage-ID: <b@%s>\n\n" % (domain, domain)) + BODY


def home():
    h = tempfile.mkdtemp(prefix="tern-dkim-bench-", dir=os.path.join(TOP, "build"))
    os.makedirs(os.path.join(h, "control"))
    for d in ("tmp", "mess", "state", "job"):
        os.makedirs(os.path.join(h, "queue", d))
    with open(os.path.join(h, "control", "dkimdomains"), "w") as f:
        f.write("rsa.test:r1\ned.test:e1\nboth.test:r1,e1\n")
    env = dict(os.environ, TERN_HOME=h)
    for args in (("rsa.test", "r1"), ("-t", "ed25519", "ed.test", "e1"), ("both.test", "r1"),
                 ("-t", "ed25519", "both.test", "e1")):
        subprocess.run([os.path.join(BIN, "tern-dkimkey")] + list(args), env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return h


def run(prog, env, msg, envelope):
    mr, mw = os.pipe()
    er, ew = os.pipe()
    p = subprocess.Popen([prog], stdin=mr, stdout=er, stderr=subprocess.DEVNULL, env=env)
    os.close(mr)
    os.close(er)
    os.write(mw, msg)
    os.close(mw)
    os.write(ew, envelope)
    os.close(ew)
    if p.wait() != 0:
        raise RuntimeError("%s exited %d" % (prog, p.returncode))


def measure(name, prog, env, domain, h):
    msg, envelope = message(domain), ENVELOPE % domain
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for _ in range(N):
        run(prog, env, msg, envelope)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    shutil.rmtree(os.path.join(h, "queue", "mess"))
    os.makedirs(os.path.join(h, "queue", "mess"))
    return name, cpu / N * 1000, wall / N * 1000


def main():
    h = home()
    base = dict(os.environ, TERN_HOME=h)
    base.pop("RELAYCLIENT", None)
    base.pop("TERN_AUTHUSER", None)
    trusted = dict(base, TERN_AUTHUSER="joe")
    q, s = os.path.join(BIN, "tern-queue"), os.path.join(BIN, "tern-dkimsign")
    rows = [measure("direct (tern-queue alone)", q, base, b"rsa.test", h),
            measure("stranger (exec, unread)", s, base, b"rsa.test", h),
            measure("trusted, no rule for the domain", s, trusted, b"none.test", h),
            measure("rsa-2048", s, trusted, b"rsa.test", h),
            measure("ed25519", s, trusted, b"ed.test", h),
            measure("rsa-2048 + ed25519", s, trusted, b"both.test", h)]
    shutil.rmtree(h)
    print("%d messages of %d bytes per variant; CPU of all processes per message" % (N, len(message(b"rsa.test"))))
    print("| variant | CPU ms/msg | over tern-queue alone | wall ms/msg |")
    print("|---|---|---|---|")
    for name, cpu, wall in rows:
        print("| %s | %.2f | %+.2f | %.2f |" % (name, cpu, cpu - rows[0][1], wall))


main()
