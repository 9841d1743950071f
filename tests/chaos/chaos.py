"""chaos.py: SMTP load while random tern programs get SIGKILL, then a count
of what got 250 against what was delivered (tests/integration/chaos.t runs a
short round, tests/chaos/run a long one).

The instance: pooled tern-smtpd workers under tern-tcpserver -w (plain) and
tern-tcpserver + tern-tlsd -i (implicit TLS), tern-send with tern-local
(Maildirs of alice and bob) and tern-remote (far.test routed by smtproutes to
a sink on loopback). Clients tag every message with X-Chaos-Id. Victims are
found by walking /proc from the PIDs this module started (never by name
across the system); a killed tern-send or tern-tcpserver is restarted at
once, as s6 would.
"""
import os
import random
import re
import signal
import smtplib
import subprocess
import ssl
import threading
import time
import uuid

import tern
import deliver
import remotetest
import terntls

LOCAL = ["alice@ex.test", "bob@ex.test"]
REMOTE = ["r1@far.test", "r2@far.test"]
VICTIMS = ("tern-smtpd", "tern-queue", "tern-send", "tern-remote", "tern-local", "tern-tlsd", "tern-tcpserver")
# Kills that can make a duplicate: between a delivery's success and the
# K record (docs/hardening.md, "The duplicate window").
DELIVERY_SIDE = ("tern-send", "tern-remote", "tern-local")
ID_RE = re.compile(rb"^X-Chaos-Id: ([0-9a-f]{32})\r?$", re.M)


def children_map():
    """ppid -> [(pid, comm)] for every process now."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # comm is in parentheses and may hold blanks: split after the last ')'
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append((int(d), comm))
    return kids


def descendants(roots):
    """[(pid, comm)] of roots (pid, comm) and everything below them."""
    kids = children_map()
    out, todo = [], list(roots)
    while todo:
        pid, comm = todo.pop()
        out.append((pid, comm))
        todo += kids.get(pid, [])
    return out


class Instance:
    def __init__(self, concurrency=10):
        self.port_sink, (self.sink,) = remotetest.sinks(["127.0.0.1"])
        self.home = deliver.instance(users=LOCAL, control={
            "rcpthosts": ["ex.test", "far.test"], "smtproutes": ["far.test:[127.0.0.1]"],
            "timeoutsmtpd": "20", "timeoutremote": "20", "helohost": "mx.ex.test",
            "concurrencylocal": str(concurrency), "concurrencyremote": str(concurrency)})
        self.concurrency = concurrency
        self.env = deliver.env(self.home, {"TERN_SMTP_PORT": str(self.port_sink)})
        key, cert = terntls.make_cert(tern.tmpdir())
        self.chains = [[tern.prog("tern-smtpd")],
                       [tern.prog("tern-tlsd"), "-i", "-k", key, "-c", cert, tern.prog("tern-smtpd")]]
        # the plain port runs pooled workers (tern-tcpserver -w, docs/pool.md):
        # a tern-smtpd killed there is a reused worker in mid-session
        self.opts = [("-c", "100", "-w", "50", "-k", "4"), ("-c", "100")]
        self.smtp, self.port, self.log = tern.tcpserver(self.chains[0], env=self.env, opts=self.opts[0])
        self.smtps, self.tport, self.tlog = tern.tcpserver(self.chains[1], env=self.env, opts=("-c", "100"))
        self.send = None
        self.start_send()

    def restart_server(self, pid):
        """A killed tern-tcpserver comes back on its port, as s6 would
        restart it; its children (the sessions) live on meanwhile."""
        i = 0 if pid == self.smtp.pid else 1
        old = (self.smtp, self.smtps)[i]
        old.wait(10)
        argv = [tern.prog("tern-tcpserver"), "-u", str(os.getuid()), "-g", str(os.getgid())] + list(self.opts[i]) + [
                "127.0.0.1", str((self.port, self.tport)[i])] + self.chains[i]
        p = tern.spawn(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i == 0:
            self.smtp = p
        else:
            self.smtps = p
        tern.wait_port("127.0.0.1", (self.port, self.tport)[i], 10)

    def start_send(self):
        self.send, self.sendlog = deliver.start_send(self.home, {"TERN_SMTP_PORT": str(self.port_sink)})

    def roots(self):
        return [(self.smtp.pid, "tern-tcpserver"), (self.smtps.pid, "tern-tcpserver"), (self.send.pid, "tern-send")]


class Load:
    """Parallel smtplib clients; accepted[id] = recipients that got 250."""
    def __init__(self, inst, clients=4, seed=None):
        self.inst = inst
        self.accepted = {}
        self.failed = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.rng = random.Random(seed)
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(clients)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def one(self, tls):
        ctx = terntls.client_context() if tls else None
        rcpts = self.rng.sample(LOCAL + REMOTE, self.rng.randint(1, 3))
        mid = uuid.uuid4().hex
        msg = ("From: chaos@far.test\r\nTo: %s\r\nSubject: chaos\r\nX-Chaos-Id: %s\r\n\r\n%s\r\n"
               % (", ".join(rcpts), mid, "body " * self.rng.randint(1, 200))).encode()
        if tls:
            s = smtplib.SMTP_SSL("127.0.0.1", self.inst.tport, timeout=15, context=ctx)
        else:
            s = smtplib.SMTP("127.0.0.1", self.inst.port, timeout=15)
        try:
            refused = s.sendmail("chaos@far.test", rcpts, msg)
            # sendmail returned: the final dot got 250
            with self.lock:
                self.accepted[mid] = [r for r in rcpts if r not in refused]
        finally:
            try:
                s.quit()
            except Exception:
                s.close()

    def client(self, i):
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.one(n % 2 == 1)
            except Exception:
                with self.lock:
                    self.failed += 1
                time.sleep(0.02)


class Killer:
    """Kills a random victim among the instance's processes every few
    tenths of a second; restarts tern-send or tern-tcpserver when it was
    the one."""
    def __init__(self, inst, seed=None, pause=(0.05, 0.3), victims=VICTIMS):
        self.inst = inst
        self.victims = victims
        self.kills = {}
        self.rng = random.Random(seed)
        self.pause = pause
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.t.start()

    def join(self):
        self.stop.set()
        self.t.join(30)

    def total(self):
        return sum(self.kills.values())

    def once(self):
        procs = [(pid, c) for pid, c in descendants(self.inst.roots()) if c in self.victims]
        kinds = sorted(set(c for _, c in procs))
        if not kinds:
            return
        kind = self.rng.choice(kinds)
        pid = self.rng.choice([p for p, c in procs if c == kind])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.kills[kind] = self.kills.get(kind, 0) + 1
        if pid == self.inst.send.pid:
            self.inst.send.wait(10)
            self.inst.start_send()
        elif pid in (self.inst.smtp.pid, self.inst.smtps.pid):
            self.inst.restart_server(pid)

    def run(self):
        while not self.stop.is_set():
            self.once()
            self.stop.wait(self.rng.uniform(*self.pause))


def delivered(inst):
    """(id, rcpt) -> number of deliveries; and the count of bounces."""
    got = {}
    for addr in LOCAL:
        for m in deliver.maildir_new(inst.home, addr.split("@")[0]):
            mo = ID_RE.search(m)
            if mo:
                k = (mo.group(1).decode(), addr)
                got[k] = got.get(k, 0) + 1
    bounces = 0
    for t in list(inst.sink.transactions):
        if not t.get("mail_from"):
            bounces += 1
            continue
        mo = ID_RE.search(t["data"])
        if mo and t["reply"].startswith("250"):
            for r in t["rcpts"]:
                k = (mo.group(1).decode(), r.lower())
                got[k] = got.get(k, 0) + 1
    return got, bounces


def undrained(inst, say):
    """What a queue that did not drain holds, for the report: the messages
    left, their state records, the job files and whether a run holds them,
    the scheduler's last log lines."""
    import fcntl
    for sub in ("mess", "state"):
        files = deliver.queue_files(inst.home, sub)
        say("left in queue/%s: %d" % (sub, len(files)))
        for f in files[:5]:
            if sub == "state":
                with open(f) as fh:
                    say("  %s: %s" % (os.path.basename(f), fh.read()[-400:].replace("\n", " | ")))
    jd = os.path.join(inst.home, "queue", "job")
    for f in sorted(os.listdir(jd)) if os.path.isdir(jd) else []:
        p = os.path.join(jd, f)
        fd = os.open(p, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            lock = "free"
        except OSError:
            lock = "held"
        with open(p, "rb") as fh:
            head = fh.read(120)
        os.close(fd)
        say("job file %s: %d bytes, lock %s: %r" % (f, os.path.getsize(p), lock, head))
    for line in inst.sendlog.lines[-40:]:
        say("log: " + line)


def count(load, got):
    """(accepted pairs, lost pairs, duplicated pairs, extra deliveries)."""
    pairs = [(mid, r) for mid, rs in load.accepted.items() for r in rs]
    lost = [p for p in pairs if not got.get(p)]
    dups = [p for p, n in got.items() if n > 1]
    extra = sum(n - 1 for n in got.values() if n > 1)
    return pairs, lost, dups, extra


def run(seconds, clients=4, seed=None, drain=60, pause=(0.05, 0.3), say=print, victims=VICTIMS):
    """One round; returns a dict of figures."""
    inst = Instance()
    load = Load(inst, clients, seed)
    killer = Killer(inst, seed, pause, victims)
    t0 = time.monotonic()
    load.start()
    killer.start()
    time.sleep(seconds)
    killer.join()
    load.join()
    if inst.send.poll() is not None:
        inst.start_send()
    drained = deliver.wait_queue_empty(inst.home, drain)
    if not drained:
        undrained(inst, say)
    got, bounces = delivered(inst)
    inst.sink.stop()
    pairs, lost, dups, extra = count(load, got)
    r = {"seconds": round(time.monotonic() - t0, 1), "accepted_msgs": len(load.accepted),
         "accepted_pairs": len(pairs), "client_errors": load.failed, "kills": killer.total(),
         "kills_by_program": dict(sorted(killer.kills.items())), "lost": len(lost),
         "duplicated_pairs": len(dups), "extra_deliveries": extra, "bounces": bounces,
         "drained": bool(drained), "lost_list": lost[:20],
         "delivery_side_kills": sum(killer.kills.get(k, 0) for k in DELIVERY_SIDE),
         "concurrency": inst.concurrency,
         # the instance must survive the round: a missing control/me means
         # something outside the test removed it, and the counts mean nothing
         "damaged": not os.path.exists(os.path.join(inst.home, "control", "me"))}
    for k in ("seconds", "accepted_msgs", "accepted_pairs", "client_errors", "kills", "kills_by_program",
              "lost", "duplicated_pairs", "extra_deliveries", "bounces", "drained", "damaged"):
        say("%s: %s" % (k, r[k]))
    return r
