"""tlsbench.py: the TLS rows of bench/bench.py ("tls" and "tlsmemory").

smtp-source has no STARTTLS, so the client is Python's ssl in several
processes: each session says EHLO, STARTTLS, EHLO, MAIL, RCPT, DATA (1 KiB),
QUIT, on a new connection with no TLS session resumption. Three systems in
one run, interleaved per repetition:
  tern pooled:  tern-tcpserver -w 1000 -k 8 ... tern-tlsd ... tern-smtpd
                (a resident tern-tlsd worker owning a resident tern-smtpd)
  tern classic: tern-tcpserver ... tern-tlsd ... tern-smtpd (fork+exec of
                both per connection)
                (both with tern-queued, the resident queue writer)
  Postfix:      smtpd with smtpd_tls_security_level = may, the same key and
                certificate (ECDSA P-256, from tern-setup)
CPU is each system's cpuacct cgroup (every process it starts); the client's
CPU is not counted. Memory: idle connections held open (greeting read, and
after STARTTLS and EHLO), the RSS and PSS of every process below the
listener (tern, spare workers included) or of every smtpd (Postfix),
divided by the number of connections."""
import multiprocessing
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import time

import postfix

N = int(os.environ.get("BENCH_TLS_N", "200"))       # sessions per run with 1 client (4 clients: 4 times as many)
IDLE = int(os.environ.get("BENCH_TLS_IDLE", "100"))  # idle connections held (after STARTTLS: half)
BODY = b"Subject: tls bench\r\n\r\n" + b"x" * 1000 + b"\r\n.\r\n"


def _reply(f):
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError("connection closed")
        if line[3:4] != b"-":
            return int(line[:3])


def _session(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", port), 30)
    f = s.makefile("rb")
    _reply(f)
    s.sendall(b"EHLO bench.client\r\n")
    _reply(f)
    s.sendall(b"STARTTLS\r\n")
    if _reply(f) != 220:
        raise RuntimeError("STARTTLS refused")
    t = ctx.wrap_socket(s)
    f = t.makefile("rb")
    t.sendall(b"EHLO bench.client\r\n")
    _reply(f)
    t.sendall(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<u@bench.test>\r\nDATA\r\n")
    codes = [_reply(f) for _ in range(3)]
    t.sendall(BODY)
    codes.append(_reply(f))
    t.sendall(b"QUIT\r\n")
    _reply(f)
    t.close()
    if codes != [250, 250, 354, 250]:
        raise RuntimeError("session refused: %r" % codes)


def _client(args):
    port, n = args
    for _ in range(n):
        _session(port)
    return n


def run_sessions(port, procs, count):
    """Seconds for count TLS sessions spread over procs client processes."""
    per = count // procs
    t = time.monotonic()
    with multiprocessing.Pool(procs) as p:
        done = sum(p.map(_client, [(port, per)] * procs))
    return done, time.monotonic() - t


class TernTls:
    def __init__(self, b, sink_port, cg, pool):
        self.t = b.Tern(sink_port, cg=cg)
        home, binp = self.t.home, self.t.bin
        pre = cg.prefix() if cg else []
        popts = ["-w", "1000", "-k", "8"] if pool else []
        self.t.server = b.spawn(pre + [os.path.join(binp, "tern-tcpserver"), "-u", "0", "-g", "0", "-c", "300"] + popts
                                + ["127.0.0.1", str(self.t.port),
                                   os.path.join(binp, "tern-tlsd"), "-k", os.path.join(home, "tls", "key.pem"),
                                   "-c", os.path.join(home, "tls", "cert.pem"), os.path.join(binp, "tern-smtpd")],
                                env=self.t.env, stderr=subprocess.DEVNULL)
        b.wait_port(self.t.port)
        self.port = self.t.port
        # the resident queue writer, as tern-setup runs it: no tern-queue
        # fork+exec per message, so the rows show what TLS costs. No rules:
        # tern-setup's give loopback TERNQUEUE=tern-dkimsign (a fork+exec of
        # it and of tern-queue per message, which Postfix does not do)
        self.queued = b.spawn(pre + [os.path.join(binp, "tern-queued")], env=self.t.env, stderr=subprocess.DEVNULL)
        sock = os.path.join(home, "queued", "socket")
        end = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < end:
            time.sleep(0.05)

    def pids(self, b):
        out, todo = [], [self.t.server.pid]
        while todo:
            kids = b.children(todo.pop())
            out += kids
            todo += kids
        return out

    def stop(self):
        self.queued.kill()
        self.queued.wait()
        self.t.stop()


class PostfixTls:
    def __init__(self, b, sink_port, cg, keyhome):
        base = tempfile.mkdtemp(prefix="bench-pf-")
        self.pf = postfix.Postfix(base, b.free_port(), sink_port, hold=True)
        for name in ("key.pem", "cert.pem"):
            shutil.copy(os.path.join(keyhome, "tls", name), os.path.join(base, name))
        self.pf.main.update({"smtpd_tls_security_level": "may",
                             "smtpd_tls_cert_file": os.path.join(base, "cert.pem"),
                             "smtpd_tls_key_file": os.path.join(base, "key.pem")})
        self.pf.write_main()
        # without tlsmgr (its PRNG seed) Postfix's smtpd turns TLS off
        with open(os.path.join(self.pf.conf, "master.cf"), "a") as f:
            f.write("tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n")
        self.pf.prefix = cg.prefix() if cg else []
        b.pfs.append(self.pf)
        self.pf.start()
        b.wait_port(self.pf.port)
        self.port = self.pf.port

    def pids(self, b):
        return self.pf.pids("smtpd")

    def stop(self):
        self.pf.stop()
        shutil.rmtree(self.pf.base, ignore_errors=True)


def _keyhome(b, sink):
    """A tern instance only for its key and certificate (Postfix's copy)."""
    t = b.Tern(sink.port)
    d = tempfile.mkdtemp(prefix="bench-key-")
    shutil.copytree(os.path.join(t.home, "tls"), os.path.join(d, "tls"))
    t.stop()
    return d


def _start(b, kind, sink, cg, keyhome):
    if kind == "postfix":
        return PostfixTls(b, sink.port, cg, keyhome)
    return TernTls(b, sink.port, cg, kind == "tern pooled")


NAMES = ["tern pooled", "tern classic", "postfix"]


def row_tls(b):
    sink = b.Sink()
    keyhome = _keyhome(b, sink)
    rows = []
    for procs, count in ((1, N), (4, 4 * N)):
        res = {n: [] for n in NAMES}
        for _ in range(b.REPS):
            for n in NAMES:
                cg = b.CpuGroup(n.replace(" ", "") + "-tls")
                s = _start(b, n, sink, cg, keyhome)
                base = cg.seconds()
                done, el = run_sessions(s.port, procs, count)
                cpu = cg.seconds() - base
                s.stop()
                cg.remove()
                res[n].append((done / el, cpu / done * 1000))
        med = {n: [statistics.median(x[k] for x in res[n]) for k in range(2)] for n in NAMES}
        label = "%d client%s, 1 KiB" % (procs, "s" if procs > 1 else "")
        for n in ("tern pooled", "tern classic"):
            kind = n.split()[1]
            rows.append(("STARTTLS sessions/s (1 message each), %s, %s" % (kind, label), med[n][0], med["postfix"][0]))
            rows.append(("CPU ms per STARTTLS session, %s, %s" % (kind, label), med[n][1], med["postfix"][1]))
    sink.stop()
    shutil.rmtree(keyhome, ignore_errors=True)
    return rows


def _hold(port, n, tls):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), 10)
        f = s.makefile("rb")
        _reply(f)
        if tls:
            s.sendall(b"EHLO bench.client\r\n")
            _reply(f)
            s.sendall(b"STARTTLS\r\n")
            _reply(f)
            s = ctx.wrap_socket(s)
            s.sendall(b"EHLO bench.client\r\n")
            _reply(s.makefile("rb"))
        socks.append(s)
    time.sleep(1)
    return socks


def row_tlsmemory(b):
    sink = b.Sink()
    keyhome = _keyhome(b, sink)
    rows = []
    for tls, n in ((False, IDLE), (True, IDLE // 2)):
        got = {}
        for kind in NAMES:
            s = _start(b, kind, sink, None, keyhome)
            socks = _hold(s.port, n, tls)
            pids = s.pids(b)
            got[kind] = (sum(b.mem_kib(p, "VmRSS") for p in pids) / n, sum(b.mem_kib(p, "Pss") for p in pids) / n)
            [x.close() for x in socks]
            s.stop()
        what = "after STARTTLS" if tls else "plain, STARTTLS offered"
        for kind in ("tern pooled", "tern classic"):
            k = kind.split()[1]
            rows.append(("KiB RSS per idle connection, %s, %s (%d open)" % (k, what, n), got[kind][0], got["postfix"][0]))
            rows.append(("KiB PSS per idle connection, %s, %s (%d open)" % (k, what, n), got[kind][1], got["postfix"][1]))
    sink.stop()
    shutil.rmtree(keyhome, ignore_errors=True)
    return rows
