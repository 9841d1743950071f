#!/usr/bin/env python3
"""tern-tcpserver -w (pool mode) with tern-smtpd as the pooled worker: one
worker serves session after session with nothing leaking from one to the
next (relay rights, RELAYCLIENT, AUTH, DATABYTES, the envelope); control
files changed without a restart are seen; SIGKILL of a worker loses only
its connection; -w, -c and -C bound the pool; the environment the queue
program sees is the same in both modes (docs/pool.md)."""
import base64
import os
import re
import signal
import socket
import subprocess

import tap
import tern
from smtpraw import Raw, read_log

PW = "correct horse"
RULES = '127.0.0.2:allow,RELAYCLIENT="",DATABYTES="100"\n127.0.0.3:allow,TERN_RULEVAR="x y"\n:allow\n'


class Src(Raw):
    """A Raw client from a chosen loopback source address."""
    def __init__(self, port, src="127.0.0.1", timeout=10.0):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0))
        self.buf = b""
        self.timeout = timeout


def instance(control=None):
    ctl = {"rcpthosts": ["tern.test"], "timeoutsmtpd": "20", "authfaildelay": "0"}
    ctl.update(control or {})
    home = tern.make_home(ctl)
    tern.make_queue(home)
    r = subprocess.run([tern.prog("tern-passwd"), "add", "joe@tern.test"], input=(PW + "\n").encode(),
                       env=dict(os.environ, TERN_HOME=home), stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr
    return home


def pooled(home, opts=("-c", "1", "-k", "1", "-w", "1000"), rules=RULES, env=None, smtpd_opts=("-p",)):
    e = {"TERN_HOME": home}
    e.update(env or {})
    chain = [tern.prog("tern-smtpd")] + list(smtpd_opts) + [tern.prog("tern-checkpassword"), "true"]
    return tern.tcpserver(chain, rules=rules, env=e, opts=opts)


def ok_pids(log):
    return re.findall(r"tern-tcpserver: ok (\d+) ", read_log(log))


def plain(user, pw):
    return base64.b64encode(("\0%s\0%s" % (user, pw)).encode()).decode()


def no_leaks(home, port, log):
    # 1: a relay client (the rules give RELAYCLIENT and DATABYTES), left mid-transaction
    r = Src(port, "127.0.0.2")
    ehlo = r.begin("friend.test", "a@friend.test")
    tap.like(ehlo, b"SIZE 100", "session 1: DATABYTES from the rules is the SIZE")
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 250, "session 1: relay client may relay")
    r.close()
    # 2: a stranger in the same worker
    r = Src(port, "127.0.0.1")
    ehlo = r.begin("stranger.test")
    tap.like(ehlo, b"SIZE 10485760", "session 2: SIZE back to control/databytes's value")
    tap.is_(r.cmd("RCPT TO:<x@tern.test>")[0], 503, "session 2: no envelope left from session 1")
    tap.is_(r.cmd("DATA")[0], 503, "session 2: DATA without MAIL refused")
    r.cmd("MAIL FROM:<b@stranger.test>")
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 553, "session 2: relay rights did not leak")
    tap.is_(r.cmd("AUTH PLAIN " + plain("joe@tern.test", PW))[0], 503, "(AUTH refused during a transaction)")
    r.cmd("RSET")
    tap.is_(r.cmd("AUTH PLAIN " + plain("joe@tern.test", PW))[0], 235, "session 2: AUTH works")
    r.cmd("MAIL FROM:<joe@tern.test>")
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 250, "session 2: authenticated, may relay")
    r.cmd("QUIT")
    r.close()
    # 3: the login did not outlive its session
    r = Src(port, "127.0.0.1")
    r.begin("stranger.test", "c@stranger.test")
    tap.is_(r.cmd("RCPT TO:<x@far.example>")[0], 553, "session 3: AUTH from session 2 did not leak")
    tap.is_(r.cmd("RCPT TO:<u@tern.test>")[0], 250, "session 3: local recipient accepted")
    r.cmd("DATA")
    r.send("Subject: three\r\n\r\nthree\r\n.\r\n")
    tap.is_(r.reply()[0], 250, "session 3: message queued")
    r.cmd("QUIT")
    r.close()
    # 4: three bad logins end a session; the next starts with no failures counted
    r = Src(port, "127.0.0.1")
    r.begin("stranger.test")
    codes = [r.cmd("AUTH PLAIN " + plain("joe@tern.test", "wrong"))[0] for _ in range(2)]
    tap.is_(codes, [535, 535], "session 4: two failed logins")
    r.close()
    r = Src(port, "127.0.0.1")
    r.begin("stranger.test")
    tap.is_(r.cmd("AUTH PLAIN " + plain("joe@tern.test", "wrong"))[0], 535,
            "session 5: a failure is answered 535, not cut off (failures were not carried)")
    tap.is_(r.cmd("AUTH PLAIN " + plain("joe@tern.test", PW))[0], 235, "session 5: then a good login")
    r.close()
    q = tern.queued_messages(home)
    tap.is_([m[3] for m in q], [["u@tern.test"]], "only session 3's message is queued, to its recipient")
    pids = ok_pids(log)
    tap.ok(len(pids) == 5 and len(set(pids)) == 1, "all five sessions ran in one worker", pids)


def control_change(home, port):
    r = Src(port)
    r.begin("x.test", "a@x.test")
    tap.is_(r.cmd("RCPT TO:<u@new.test>")[0], 553, "new.test not ours yet")
    r.close()
    with open(os.path.join(home, "control", "rcpthosts"), "a") as f:
        f.write("new.test\n")
    with open(os.path.join(home, "control", "databytes"), "w") as f:
        f.write("5000\n")
    r = Src(port)
    ehlo = r.begin("x.test", "a@x.test")
    tap.is_(r.cmd("RCPT TO:<u@new.test>")[0], 250, "rcpthosts changed in place: seen by the next session")
    tap.like(ehlo, b"SIZE 5000", "databytes created (absent before): seen by the next session")
    r.close()
    # replaced by a rename, as tern-conf and editors do: control/ changes
    tmp = os.path.join(home, "control", "rcpthosts.new")
    with open(tmp, "w") as f:
        f.write("tern.test\nnew2.test\n")
    os.rename(tmp, os.path.join(home, "control", "rcpthosts"))
    r = Src(port)
    r.begin("x.test", "a@x.test")
    tap.is_(r.cmd("RCPT TO:<u@new2.test>")[0], 250, "rcpthosts replaced by a rename: seen by the next session")
    tap.is_(r.cmd("RCPT TO:<u@new.test>")[0], 553, "and the old list is gone")
    r.close()


def rules_change(port, log):
    """The launcher keeps the rules cdb mapped while its stat is the same
    (rules/tcpserver_child.c): tern-tcprules' rename is seen at once."""
    r = Src(port, "127.0.0.4")
    tap.is_(r.reply()[0], 220, "127.0.0.4 served under the first rules")
    r.close()
    cdb = os.path.join(os.path.dirname(log), "rules.cdb")
    c = subprocess.run([tern.prog("tern-tcprules"), cdb, cdb + ".tmp"], input=b"127.0.0.4:deny\n" + RULES.encode(),
                       stderr=subprocess.PIPE)
    tap.is_(c.returncode, 0, "rules recompiled while the pool runs")
    r = Src(port, "127.0.0.4")
    tap.ok(r.closed(), "the next connection from 127.0.0.4 is denied by the new rules")
    tap.ok(tern.wait_for(lambda: "deny" in read_log(log), 10), "and the denial is logged")


def kill_worker(home):
    port_p = pooled(home, opts=("-c", "4", "-k", "2", "-w", "1000"))
    _, port, log = port_p
    a = Src(port)
    a.begin("a.test", "a@a.test")
    a.cmd("RCPT TO:<u@tern.test>")
    pa = tern.wait_for(lambda: ok_pids(log) or None, 10)
    b = Src(port)
    b.begin("b.test", "b@b.test")
    tern.wait_for(lambda: len(ok_pids(log)) >= 2, 10)
    pids = ok_pids(log)
    tap.ok(len(pids) == 2 and pids[0] != pids[1], "two sessions, two workers", pids)
    os.kill(int(pids[0]), signal.SIGKILL)
    tap.ok(a.closed(), "the killed worker's connection is closed")
    tap.is_(b.cmd("RCPT TO:<v@tern.test>")[0], 250, "the other session goes on")
    b.cmd("DATA")
    b.send("Subject: b\r\n\r\nb\r\n.\r\n")
    tap.is_(b.reply()[0], 250, "and its message is queued")
    b.close()
    tap.like(read_log(log, "ended in a session"), "ended in a session (signal 9)", "the launcher logs the lost session")
    c = Src(port)
    c.begin("c.test", "c@c.test")
    tap.is_(c.cmd("RCPT TO:<w@tern.test>")[0], 250, "a new connection is served after the kill")
    c.close()
    tern.stop(port_p[0])


def bounds(home):
    # -w 2: a worker leaves after two sessions, a new one takes over
    p, port, log = pooled(home, opts=("-c", "1", "-k", "1", "-w", "2"))
    for _ in range(3):
        r = Src(port)
        r.begin()
        r.cmd("QUIT")
        r.close()
    pids = ok_pids(log)
    tap.ok(len(pids) == 3 and pids[0] == pids[1] and pids[2] != pids[0], "-w 2: two sessions per worker", pids)
    tern.stop(p)
    # -c 1: a second client waits in the backlog until the first leaves
    p, port, log = pooled(home, opts=("-c", "1", "-k", "1", "-w", "100"))
    a = Src(port)
    a.begin()
    b = Src(port, timeout=1.0)
    tap.is_(b.reply()[0], None, "-c 1: no greeting for a second client while the first is served")
    b.timeout = 10.0
    b.s.settimeout(10.0)
    a.cmd("QUIT")
    a.close()
    tap.is_(b.reply()[0], 220, "-c 1: greeted once the first left")
    b.close()
    tern.stop(p)
    # -C 1: the per-address limit holds in pool mode
    p, port, log = pooled(home, opts=("-c", "4", "-C", "1", "-k", "2", "-w", "100"))
    a = Src(port)
    a.begin()
    b = Src(port)
    tap.ok(b.closed(), "-C 1: a second connection from the same address is closed")
    c = Src(port, "127.0.0.3")
    tap.is_(c.reply()[0], 220, "-C 1: another address is served")
    tap.like(read_log(log, "per-address limit"), "per-address limit reached", "and the refusal is logged")
    for x in (a, b, c):
        x.close()
    tern.stop(p)


QPROG = tern.ENV_QUEUE_PROG


def same_environment(home):
    d = tern.tmpdir()
    qprog = os.path.join(d, "q.sh")
    with open(qprog, "w") as f:
        f.write(QPROG)
    os.chmod(qprog, 0o755)
    envs = {}
    for mode, opts in (("classic", ()), ("pool", ("-w", "10", "-k", "1"))):
        out = os.path.join(d, mode)
        p, port, log = pooled(home, opts=opts, env={"TERNQUEUE": qprog, "OUT": out}, smtpd_opts=())
        r = Src(port, "127.0.0.3")
        r.begin("x.test", "a@x.test")
        r.cmd("RCPT TO:<u@tern.test>")
        r.cmd("DATA")
        r.send("x\r\n.\r\n")
        tap.is_(r.reply()[0], 250, "%s: the queue program ran" % mode)
        r.close()
        tern.wait_for(lambda: os.path.exists(out), 10)
        with open(out) as f:
            envs[mode] = f.read()
        tern.stop(p)
    tap.like(envs["pool"], "TERN_RULEVAR=x y\n", "pool: the rules' variable is set")
    tap.ok("TERN_POOL" not in envs["pool"], "pool: TERN_POOL is not in a session's environment")
    tap.is_(envs["pool"], envs["classic"], "the queue program's environment is the same in both modes")


def main():
    home = instance()
    p, port, log = pooled(home)
    no_leaks(home, port, log)
    control_change(home, port)
    rules_change(port, log)
    tern.stop(p)
    kill_worker(instance())
    bounds(instance())
    same_environment(instance())


if __name__ == "__main__":
    try:
        main()
    finally:
        tap.done()
