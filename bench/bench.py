#!/usr/bin/env python3
"""bench/bench.py: tern beside Postfix on the same machine, in the same run.

    bench/run [rows...]     (as root; rows: disk accept relay memory scale dnsbl tls tlsmemory)

Every figure is the median of several repetitions; each row prints tern,
Postfix and their ratio. Both servers listen on 127.0.0.1 at free ports, relay
the domain bench.test to a sink on loopback (tern through control/smtproutes,
Postfix through a transport), keep fsync on, and never ask a DNS server.
Results are printed and written to bench/RESULTS.md.
"""
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
BIN = os.environ.get("TERN_BIN", os.path.join(TOP, "build", "bin"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
SCALE_N = int(os.environ.get("BENCH_SCALE_N", "100000"))
# BENCH_TERN_OLD: the bin/ of another tern build (the code before a change),
# run in the same rows beside this one: "tern before" in the table.
OLD_BIN = os.environ.get("BENCH_TERN_OLD", "")
SCALE_PF = os.environ.get("BENCH_SCALE_POSTFIX", "1") != "0"
CGROOT = "/sys/fs/cgroup/cpuacct"
RELAY_N = int(os.environ.get("BENCH_RELAY_N", "1000"))   # messages per relay run at 20 and 50 sessions

import postfix  # noqa: E402
import tlsbench  # noqa: E402

procs = []
pfs = []   # Postfix instances, stopped at the end even when a row failed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(argv, **kw):
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    procs.append(p)
    return p


def kill(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def wait_port(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_until(cond, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return False


# ---------------------------------------------------------------- the sink

class Sink:
    """smtp-sink on loopback, counting delivered messages (its -c counter)."""

    def __init__(self):
        self.port = free_port()
        self.p = spawn(["smtp-sink", "-u", "nobody", "-c", "127.0.0.1:%d" % self.port, "1000"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.count = 0      # messages received
        self.sessions = 0   # SMTP sessions ended (connections)
        threading.Thread(target=self._read, daemon=True).start()
        wait_port(self.port)

    def _read(self):
        buf = b""
        while True:
            c = self.p.stdout.read1(4096) if hasattr(self.p.stdout, "read1") else self.p.stdout.read(1)
            if not c:
                return
            buf = (buf + c)[-128:]
            for sess, mesg in re.findall(rb"sess=(\d+) quit=\d+ mesg=(\d+)", buf):
                self.sessions = max(self.sessions, int(sess))
                self.count = max(self.count, int(mesg))

    def stop(self):
        kill(self.p)


class TimingSink(threading.Thread):
    """A small SMTP sink that notes when each message (by its X-Bench-Id)
    arrived; used only at low rates, for latency."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.arrived = {}
        self.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(c,), daemon=True).start()

    def session(self, c):
        f = c.makefile("rb")
        c.sendall(b"220 timing.sink ESMTP\r\n")
        ids = []
        while True:
            line = f.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                c.sendall(b"250-timing.sink\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                c.sendall(b"354 go\r\n")
                ids = []
                while True:
                    d = f.readline()
                    if not d or d == b".\r\n":
                        break
                    if d.lower().startswith(b"x-bench-id:"):
                        ids.append(d.split(b":", 1)[1].strip().decode())
                now = time.monotonic()
                for i in ids:
                    self.arrived.setdefault(i, now)
                c.sendall(b"250 ok\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"250 ok\r\n")


# ---------------------------------------------------------------- tern

class CpuGroup:
    """A cpuacct cgroup (v1) that a system's processes start in, so its CPU
    time (every process it forks, however short-lived) can be read."""

    def __init__(self, name):
        self.path = os.path.join(CGROOT, "bench-%s-%d" % (name, os.getpid()))
        os.makedirs(self.path, exist_ok=True)

    def prefix(self):
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path]

    def seconds(self):
        with open(os.path.join(self.path, "cpuacct.usage")) as f:
            return int(f.read()) / 1e9

    def remove(self):
        for _ in range(100):
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as f:
                    pids = [int(x) for x in f.read().split()]
            except OSError:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.05)


class Tern:
    def __init__(self, sink_port, bindir=None, cg=None):
        self.bin = bindir or BIN
        self.cg = cg
        self.home = tempfile.mkdtemp(prefix="bench-tern-")
        r = subprocess.run([os.path.join(self.bin, "tern-setup"), "-u", "-i", "127.0.0.1",
                            "-d", "tern.bench", self.home + "/i"], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("tern-setup: " + r.stderr)
        self.home += "/i"
        self.ctl("rcpthosts", "tern.bench\nbench.test\n")
        self.ctl("smtproutes", "bench.test:127.0.0.1:%d\n" % sink_port)
        self.ctl("concurrencyremote", "20\n")
        # The bench's client is a stranger sending to a domain we accept
        # (what Postfix is set up for beside it): tern-setup's rules would
        # also give 127.0.0.1 relay rights and tern-dkimsign in front of the
        # queue (TERNQUEUE), a program run per message that Postfix has no
        # counterpart of here. BENCH_DKIM=1 keeps tern-setup's rules.
        if os.environ.get("BENCH_DKIM") != "1":
            with open(self.home + "/rules", "w") as f:
                f.write(":allow\n")
            r = subprocess.run([os.path.join(self.bin, "tern-tcprules"), self.home + "/rules.cdb",
                                self.home + "/rules.tmp"], stdin=open(self.home + "/rules"),
                               capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError("tern-tcprules: " + r.stderr)
        self.env = dict(os.environ, TERN_HOME=self.home, PATH=self.bin + ":" + os.environ["PATH"])
        self.port = free_port()
        self.server = None
        self.send = None
        self.writer = None
        # a build with tern-queued has the pooled launcher too (issue 14):
        # it runs as tern-setup -P sets it up; an older one runs classic
        self.modern = os.path.exists(os.path.join(self.bin, "tern-queued"))

    def ctl(self, name, text):
        with open(os.path.join(self.home, "control", name), "w") as f:
            f.write(text)

    def start_queued(self):
        """The resident queue writer (tern-queued(8)); tern-smtpd streams to
        it when its socket answers instead of running tern-queue."""
        pre = self.cg.prefix() if self.cg else []
        sock = os.path.join(self.home, "queued", "socket")
        os.makedirs(os.path.dirname(sock), exist_ok=True)
        opts = os.environ.get("BENCH_QUEUED_OPTS", "").split()
        self.writer = spawn(pre + [os.path.join(self.bin, "tern-queued")] + opts, env=self.env,
                            stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(sock), 10)

    def start_smtp(self, conns=300, pool=None):
        """pool: tern-tcpserver -w (reused tern-smtpd workers, docs/pool.md);
        None: pooled with tern-queued where the build has them."""
        if pool is None:
            pool = self.modern
        if self.modern and not self.writer:
            self.start_queued()
        pre = self.cg.prefix() if self.cg else []
        popts = ["-w", "1000", "-k", "8"] if pool else []
        self.server = spawn(pre + [os.path.join(self.bin, "tern-tcpserver"), "-u", "0", "-g", "0", "-c", str(conns)]
                            + popts + ["-x", os.path.join(self.home, "rules.cdb"),
                                   "127.0.0.1", str(self.port), os.path.join(self.bin, "tern-smtpd")],
                            env=self.env, stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL)
        wait_port(self.port)

    def start_send(self, log=subprocess.DEVNULL):
        pre = self.cg.prefix() if self.cg else []
        self.send = spawn(pre + [os.path.join(self.bin, "tern-send")], env=self.env, stderr=log)

    def queued(self):
        n = 0
        for _, _, files in os.walk(os.path.join(self.home, "queue", "mess")):
            n += len(files)
        return n

    def stop(self):
        for p in (self.server, self.send, self.writer):
            if p:
                kill(p)
        shutil.rmtree(os.path.dirname(self.home), ignore_errors=True)

    def conn_pids(self):
        return children(self.server.pid)


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(p))
            except OSError:
                pass
    return out


def mem_kib(pid, key):
    """VmRSS from status, or Pss from smaps_rollup, in KiB."""
    try:
        if key == "Pss":
            text = open("/proc/%d/smaps_rollup" % pid).read()
        else:
            text = open("/proc/%d/status" % pid).read()
        m = re.search(r"^%s:\s+(\d+) kB" % key, text, re.M)
        return int(m.group(1)) if m else 0
    except OSError:
        return 0


def make_postfix(sink_port, hold=False, cg=None):
    base = tempfile.mkdtemp(prefix="bench-pf-")
    pf = postfix.Postfix(base, free_port(), sink_port, hold=hold)
    pf.prefix = cg.prefix() if cg else []
    pfs.append(pf)
    pf.start()
    wait_port(pf.port)
    return pf


def stop_postfix(pf):
    pf.stop()
    shutil.rmtree(pf.base, ignore_errors=True)


def source(port, sessions, count, size=1024, rcpts=1):
    t = time.monotonic()
    r = subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(count), "-l", str(size),
                        "-r", str(rcpts), "-f", "a@x.test", "-t", "u@bench.test",
                        "127.0.0.1:%d" % port], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("smtp-source: " + r.stderr.strip())
    return time.monotonic() - t


# ---------------------------------------------------------------- rows

def row_disk():
    d = tempfile.mkdtemp(prefix="bench-disk-")
    data = b"x" * 1024

    def stream(tag, n, out):
        dfd = os.open(d, os.O_RDONLY)
        t = time.monotonic()
        for i in range(n):
            tmp = os.path.join(d, "t%s.%d" % (tag, i))
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.fsync(fd)
            os.close(fd)
            os.rename(tmp, os.path.join(d, "m%s.%d" % (tag, i)))
            os.fsync(dfd)
        out.append(n / (time.monotonic() - t))
        os.close(dfd)

    one = []
    for _ in range(REPS):
        r = []
        stream("a", 300, r)
        one.append(r[0])
    many = []
    for _ in range(REPS):
        r = []
        th = [threading.Thread(target=stream, args=("b%d" % k, 100, r)) for k in range(8)]
        [x.start() for x in th]
        [x.join() for x in th]
        many.append(sum(r))
    shutil.rmtree(d, ignore_errors=True)
    return [("disk: fsync'd 1 KiB commits/s, 1 stream", statistics.median(one), None),
            ("disk: fsync'd 1 KiB commits/s, 8 streams", statistics.median(many), None)]


def accept_run(kind, sink, sessions, count, bindir=None):
    """msg/s into the durable queue and CPU ms per accepted message (the
    whole system, from its cgroup: every process it forks counts)."""
    cg = CpuGroup(kind.replace(" ", ""))
    if kind == "postfix":
        pf = make_postfix(sink.port, hold=True, cg=cg)
        base = cg.seconds()
        rate = count / source(pf.port, sessions, count)
        cpu = cg.seconds() - base
        stop_postfix(pf)
    else:
        t = Tern(sink.port, bindir, cg=cg)
        t.start_smtp()
        base = cg.seconds()
        rate = count / source(t.port, sessions, count)
        cpu = cg.seconds() - base
        ok = t.queued() == count
        t.stop()
        if not ok:
            raise RuntimeError("%s queued fewer messages than accepted" % kind)
    cg.remove()
    return rate, cpu / count * 1000


def row_accept():
    """tern (pooled tern-smtpd workers and tern-queued where the build has
    them), tern before (BENCH_TERN_OLD) and Postfix, interleaved in one run."""
    rows = []
    sink = Sink()
    names = [n for n, _ in systems()] + ["postfix"]
    bins = dict(systems())
    for sessions, count in ((1, 400), (20, 2000), (50, 2000)):
        res = {n: [] for n in names}
        for _ in range(REPS):
            for n in names:
                res[n].append(accept_run(n, sink, sessions, count, bins.get(n)))
        med = {n: [statistics.median(x[k] for x in res[n]) for k in range(2)] for n in names}
        old = med.get("tern before", [None, None])
        label = "%d session%s, 1 KiB" % (sessions, "s" if sessions > 1 else "")
        rows.append(("accept msg/s, " + label, med["tern"][0], med["postfix"][0], old[0]))
        rows.append(("CPU ms per accepted message, " + label, med["tern"][1], med["postfix"][1], old[1]))
    sink.stop()
    return rows


def systems():
    """(name, bin dir) of the tern builds to compare: this one, and the one
    before a change when BENCH_TERN_OLD names it."""
    return [("tern", BIN)] + ([("tern before", OLD_BIN)] if OLD_BIN else [])


def relay_run(kind, count=2000, sessions=20, bindir=None):
    """msg/s end to end, CPU seconds of the whole system per message,
    connections opened per message."""
    sink = Sink()
    cg = CpuGroup(kind.replace(" ", ""))
    dcg = None
    if kind != "postfix":
        # the delivery side (tern-send and its runs) in a cgroup of its own
        dcg = CpuGroup(kind.replace(" ", "") + "-send")
        t = Tern(sink.port, bindir, cg)
        t.start_smtp()
        t.cg = dcg
        t.start_send()
        port, drained, stop = t.port, (lambda: t.queued() == 0), t.stop
    else:
        pf = make_postfix(sink.port, cg=cg)
        port, drained, stop = pf.port, (lambda: pf.queued() == 0), (lambda: stop_postfix(pf))
    t0 = time.monotonic()
    source(port, sessions, count)
    ok = wait_until(lambda: sink.count >= count and drained(), 300)
    el = time.monotonic() - t0
    cpu = cg.seconds() + (dcg.seconds() if dcg else 0)
    dcpu = dcg.seconds() if dcg else None
    stop()
    cg.remove()
    if dcg:
        dcg.remove()
    # the cached / idle connections close with the system: count them all
    last = [-1]

    def settled():
        same = sink.sessions == last[0]
        last[0] = sink.sessions
        return same
    wait_until(settled, 5, 0.5)
    conns = sink.sessions
    sink.stop()
    if not ok:
        raise RuntimeError("%s did not deliver %d messages (sink saw %d)" % (kind, count, sink.count))
    return count / el, cpu / count * 1000, conns / count, dcpu / count * 1000 if dcpu is not None else None


def row_relay():
    rows = []
    names = [n for n, _ in systems()] + ["postfix"]
    bins = dict(systems())
    for sessions, count in ((1, RELAY_N // 5), (20, RELAY_N), (50, RELAY_N)):
        res = {n: [] for n in names}
        for _ in range(REPS):
            for n in names:   # interleaved, so a change of load hits all alike
                res[n].append(relay_run(n, count, sessions, bins.get(n)))
        med = {n: [statistics.median(x[k] for x in res[n]) if res[n][0][k] is not None else None
                   for k in range(4)] for n in names}
        label = "%d session%s" % (sessions, "s" if sessions > 1 else "")
        rows.append(("relay end to end msg/s, " + label, med["tern"][0], med["postfix"][0],
                     med.get("tern before", [None])[0]))
        rows.append(("CPU ms per relayed message, " + label, med["tern"][1], med["postfix"][1],
                     med.get("tern before", [None, None])[1]))
        rows.append(("connections per relayed message, " + label, med["tern"][2], med["postfix"][2],
                     med.get("tern before", [None, None, None])[2]))
        rows.append(("CPU ms per relayed message, delivery side (tern-send and its runs; Postfix: -), " + label,
                     med["tern"][3], None, med.get("tern before", [None] * 4)[3]))
    lat = {n: [latency_run(n, bindir=bins.get(n)) for _ in range(REPS)] for n in names}
    for k, what in ((0, "median"), (1, "p99")):
        med = {n: statistics.median(x[k] for x in lat[n]) for n in names}
        rows.append(("latency 250->delivered, %s ms" % what, med["tern"], med["postfix"], med.get("tern before")))
    return rows


def latency_run(kind, count=200, bindir=None):
    import smtplib
    ts = TimingSink()
    if kind != "postfix":
        t = Tern(ts.port, bindir)
        t.start_smtp()
        t.start_send()
        port, stop = t.port, t.stop
    else:
        pf = make_postfix(ts.port)
        port, stop = pf.port, (lambda: stop_postfix(pf))
    sent = {}
    s = smtplib.SMTP("127.0.0.1", port)
    for i in range(count):
        mid = "%s-%d" % (kind, i)
        msg = "From: a@x.test\r\nTo: u@bench.test\r\nX-Bench-Id: %s\r\nSubject: %d\r\n\r\n%s\r\n" % (mid, i, "y" * 900)
        s.sendmail("a@x.test", ["u@bench.test"], msg)
        sent[mid] = time.monotonic()
        time.sleep(0.01)
    s.quit()
    wait_until(lambda: len(ts.arrived) >= count, 120)
    stop()
    lat = sorted(ts.arrived[m] - sent[m] for m in sent if m in ts.arrived)
    if len(lat) < count:
        raise RuntimeError("%s: only %d of %d arrived" % (kind, len(lat), count))
    return statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000


def hold_idle(port, n=200):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.recv(512)
        socks.append(s)
    time.sleep(1)
    return socks


def row_memory():
    sink = Sink()
    t = Tern(sink.port)
    t.start_smtp(400)
    socks = hold_idle(t.port)
    pids = t.conn_pids()
    t_rss = sum(mem_kib(p, "VmRSS") for p in pids) / len(socks)
    t_pss = sum(mem_kib(p, "Pss") for p in pids) / len(socks)
    [s.close() for s in socks]
    t.stop()
    pf = make_postfix(sink.port)
    socks = hold_idle(pf.port)
    pids = pf.pids("smtpd")
    p_rss = sum(mem_kib(p, "VmRSS") for p in pids) / len(socks)
    p_pss = sum(mem_kib(p, "Pss") for p in pids) / len(socks)
    [s.close() for s in socks]
    stop_postfix(pf)
    sink.stop()
    return [("KiB RSS per idle SMTP connection (200 open)", t_rss, p_rss),
            ("KiB PSS per idle SMTP connection (200 open)", t_pss, p_pss)]


def fill_tern(t, n):
    """n queued messages written straight in the documented queue format
    (message | envelope | trailer): the same files tern-queue would commit."""
    body = ("Received: bench\nFrom: a@x.test\nTo: u@bench.test\nSubject: scale\n\n" + "z" * 900 + "\n").encode()
    env = b"Fa@x.test\0Tu@bench.test\0\0"
    trailer = ("%020d\n" % len(body)).encode()
    data = body + env + trailer
    now = int(time.time())
    rnd = os.urandom(4 * n)
    for i in range(n):
        qid = "%08x%08x" % (now, int.from_bytes(rnd[4 * i:4 * i + 4], "big") ^ i)
        d = os.path.join(t.home, "queue", "mess", qid[-2:])
        with open(os.path.join(d, qid), "wb") as f:
            f.write(data)


def scale_tern(n, bindir):
    sink = Sink()
    t = Tern(sink.port, bindir)
    for h in range(256):
        os.makedirs(os.path.join(t.home, "queue", "mess", "%02x" % h), exist_ok=True)
    fill_tern(t, n)
    log = tempfile.TemporaryFile()
    t0 = time.monotonic()
    t.start_send(log)
    first = wait_until(lambda: sink.count >= 1, 600, 0.01)
    t_first = time.monotonic() - t0
    # the whole queue read (tern-send logs it; an older one loads it all at start)
    wait_until(lambda: b"queue read:" in (log.seek(0) or log.read()), 20)
    time.sleep(2)
    t_rss = max(mem_kib(t.send.pid, "VmRSS"), 1)
    t.stop()
    sink.stop()
    if not first:
        raise RuntimeError("tern-send never began delivering")
    return t_rss, t_first


def row_scale():
    n = SCALE_N
    res = {name: scale_tern(n, b) for name, b in systems()}
    p_rss = p_first = None
    if SCALE_PF:
        sink = Sink()
        pf = make_postfix(sink.port, hold=True)
        # fill Postfix's queue through SMTP with delivery held, then release it
        done = 0
        while done < n:
            k = min(5000, n - done)
            source(pf.port, 20, k, 1024)
            done += k
        pf.stop()
        pf.unhold()
        t0 = time.monotonic()
        pf.start()
        first = wait_until(lambda: sink.count >= 1, 600, 0.01)
        p_first = time.monotonic() - t0
        time.sleep(2)
        qm = pf.pids("qmgr")
        p_rss = max(mem_kib(qm[0], "VmRSS"), 1) if qm else 0
        stop_postfix(pf)
        sink.stop()
    old = res.get("tern before", (None, None))
    return [("scheduler RSS KiB with %d queued" % n, res["tern"][0], p_rss, old[0]),
            ("s from start to first delivery, %d queued" % n, res["tern"][1], p_first, old[1])]


def row_dnsbl():
    r = subprocess.run([sys.executable, os.path.join(HERE, "dnsbl.py"), "5"], capture_output=True, text=True)
    return [("dnsbl (see bench/dnsbl.md):\n" + r.stdout.strip(), None, None)]


ROWS = {"disk": row_disk, "accept": row_accept, "relay": row_relay, "memory": row_memory,
        "scale": row_scale, "dnsbl": row_dnsbl,
        # STARTTLS sessions and idle memory with TLS, pooled and classic (bench/tlsbench.py)
        "tls": lambda: tlsbench.row_tls(sys.modules[__name__]),
        "tlsmemory": lambda: tlsbench.row_tlsmemory(sys.modules[__name__])}


def fmt(v):
    if v is None:
        return "-"
    return "%.2f" % v if v < 10 else "%.1f" % v if v < 100 else "%.0f" % v


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "-"


def main():
    want = sys.argv[1:] or list(ROWS)
    lines = []
    head = "| row | tern | Postfix | tern/Postfix |\n|---|---|---|---|"
    if OLD_BIN:
        head = ("| row | tern | tern before | Postfix | tern/Postfix | before/Postfix |\n"
                "|---|---|---|---|---|---|")
    print(head, flush=True)
    for name in want:
        try:
            rows = ROWS[name]()
        except Exception as e:  # a failed row is reported, the others still run
            rows = [("%s: failed: %s" % (name, e), None, None)]
        for r in rows:
            label, tv, pv = r[:3]
            ov = r[3] if len(r) > 3 else None
            if tv is None and pv is None:
                line = "\n" + label + "\n"
            elif OLD_BIN:
                line = "| %s | %s | %s | %s | %s | %s |" % (label, fmt(tv), fmt(ov), fmt(pv), ratio(tv, pv), ratio(ov, pv))
            else:
                line = "| %s | %s | %s | %s |" % (label, fmt(tv), fmt(pv), ratio(tv, pv))
            print(line, flush=True)
            lines.append(line)
    for p in procs:
        kill(p)
    for pf in pfs:
        if os.path.exists(pf.base):
            stop_postfix(pf)
    pfv = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True, text=True).stdout.strip()
    load = open("/proc/loadavg").read().split()[:3]
    head_md = ("# Benchmark results\n\n%s, %d cores, %s, Postfix %s, median of %d runs per figure, "
               "load average at the end %s.\n"
               "Ratios are tern / Postfix (higher is better for msg/s, lower for sizes and times).\n\n"
               % (time.strftime("%Y-%m-%d"), os.cpu_count(), platform.platform(), pfv, REPS, " ".join(load)))
    with open(os.path.join(HERE, os.environ.get("BENCH_OUT", "RESULTS.md")), "w") as f:
        f.write(head_md + head + "\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("bench: run as root (Postfix's master needs it)")
    main()
