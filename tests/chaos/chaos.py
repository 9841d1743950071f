"""chaos.py: SMTP load while random tern programs get SIGKILL, then a count
of what got 250 against what was delivered (tests/integration/chaos.t runs a
short round, tests/chaos/run a long one).

The instance: pooled tern-smtpd workers under tern-tcpserver -w (plain) and
tern-tcpserver + tern-tlsd -i (implicit TLS), both handing messages to the
resident queue writer tern-queued (tern-queue when it is away), tern-send
with tern-local (Maildirs of alice and bob) and batch runs of tern-remote
(far.test routed by smtproutes to a sink on loopback, several messages per
connection). Clients tag every message with X-Chaos-Id and, like a sending
MTA, try a message that got no 250 again (up to TRIES times). Victims are
found by walking /proc from the PIDs this module started (never by name
across the system); a killed tern-send, tern-queued or tern-tcpserver is
restarted at once, as s6 would. Until each has happened once, the killer
prefers a pooled tern-smtpd worker, tern-queued, and a tern-remote batch
run in the middle of its batch (its connection has already carried a
message) when one is there, so every round covers them.
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
VICTIMS = ("tern-smtpd", "tern-queue", "tern-queued", "tern-send", "tern-remote", "tern-local", "tern-tlsd",
           "tern-tcpserver")
# Kills that can make a duplicate (docs/hardening.md, "The duplicate
# window"): on the delivery side between a delivery's success and its K
# record; on the accepting side between the commit and the client's 250.
DELIVERY_SIDE = ("tern-send", "tern-remote", "tern-local")
ACCEPT_SIDE = ("tern-smtpd", "tern-tlsd", "tern-queue", "tern-queued")
TRIES = 3          # attempts per message, as a sending MTA retries
MAX_RCPTS = 3      # recipients per message
# the kills every round must include (Killer.special)
POOLED, BATCH, MID_BATCH = "pooled tern-smtpd", "tern-remote -b", "tern-remote -b mid-batch"
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


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def tcp_local_ports(pid, rport):
    """The local ports of pid's TCP connections to port rport (loopback)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    except OSError:
        return []
    out = []
    for tab in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(tab) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            c = row.split()
            if len(c) > 9 and c[9] in inodes and int(c[2].rsplit(":", 1)[1], 16) == rport:
                out.append(int(c[1].rsplit(":", 1)[1], 16))
    return out


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
        self.queued = None
        self.start_queued()
        self.send = None
        self.start_send()

    def start_queued(self):
        """tern-queued on queue/'s socket; a restart removes the old socket
        itself, and meanwhile tern-smtpd runs tern-queue."""
        d = os.path.join(self.home, "queued")
        os.makedirs(d, exist_ok=True)
        first = self.queued is None
        self.queued = tern.spawn([tern.prog("tern-queued")], env=self.env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if first:
            tern.wait_for(lambda: os.path.exists(os.path.join(d, "socket")), 10)

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
        return [(self.smtp.pid, "tern-tcpserver"), (self.smtps.pid, "tern-tcpserver"), (self.send.pid, "tern-send"),
                (self.queued.pid, "tern-queued")]

    def batch_done(self, pid):
        """Messages the sink has taken over the connection batch run pid
        holds now (0: none yet, or no connection)."""
        ports = set(tcp_local_ports(pid, self.port_sink))
        if not ports:
            return 0
        with self.sink.lock:
            sess = [n for n, p in self.sink.session_ports.items() if p in ports]
            if not sess:
                return 0
            cur = max(sess)
            return sum(1 for t in self.sink.transactions if t["session"] == cur)


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

    def make(self):
        rcpts = self.rng.sample(LOCAL + REMOTE, self.rng.randint(1, MAX_RCPTS))
        mid = uuid.uuid4().hex
        msg = ("From: chaos@far.test\r\nTo: %s\r\nSubject: chaos\r\nX-Chaos-Id: %s\r\n\r\n%s\r\n"
               % (", ".join(rcpts), mid, "body " * self.rng.randint(1, 200))).encode()
        return mid, rcpts, msg

    def one(self, tls, mid, rcpts, msg):
        ctx = terntls.client_context() if tls else None
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
            with self.lock:
                mid, rcpts, msg = self.make()
            # the same message again after a failure: a commit whose 250
            # was lost then shows as a duplicate, as it would in the world
            for t in range(TRIES):
                try:
                    self.one((n + t) % 2 == 1, mid, rcpts, msg)
                    break
                except Exception:
                    with self.lock:
                        self.failed += 1
                    time.sleep(0.02)


class Killer:
    """Kills a random victim among the instance's processes every few
    tenths of a second; restarts tern-send, tern-queued or tern-tcpserver
    when it was the one. special counts the kills of the new resident
    processes: pooled workers, batch runs, batch runs mid-batch."""
    def __init__(self, inst, seed=None, pause=(0.05, 0.3), victims=VICTIMS):
        self.inst = inst
        self.victims = victims
        self.kills = {}
        self.special = {POOLED: 0, BATCH: 0, MID_BATCH: 0}
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

    def classify(self, procs):
        """{pid: [special kinds it counts for]} of the victims now."""
        pooled = set(p for p, c in descendants([(self.inst.smtp.pid, "tern-tcpserver")]) if c == "tern-smtpd")
        out = {}
        for pid, c in procs:
            if c == "tern-smtpd" and pid in pooled:
                out[pid] = [POOLED]
            elif c == "tern-remote" and b"-b" in cmdline(pid)[1:]:
                out[pid] = [BATCH] + ([MID_BATCH] if self.inst.batch_done(pid) else [])
        return out

    def pick(self, procs, special):
        """A victim: one for a special kind not yet killed when there is
        one, else a random kind, then a random process of it."""
        for want in (POOLED, "tern-queued", MID_BATCH):
            if self.special.get(want, self.kills.get(want, 0)):
                continue
            cand = [(p, c) for p, c in procs if want in special.get(p, ()) or c == want]
            if cand:
                return self.rng.choice(cand)
        kind = self.rng.choice(sorted(set(c for _, c in procs)))
        return self.rng.choice([(p, c) for p, c in procs if c == kind])

    def once(self):
        procs = [(pid, c) for pid, c in descendants(self.inst.roots()) if c in self.victims]
        if not procs:
            return
        special = self.classify(procs)
        pid, kind = self.pick(procs, special)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.kills[kind] = self.kills.get(kind, 0) + 1
        for s in special.get(pid, []):
            self.special[s] += 1
        if pid == self.inst.send.pid:
            self.inst.send.wait(10)
            self.inst.start_send()
        elif pid == self.inst.queued.pid:
            self.inst.queued.wait(10)
            self.inst.start_queued()
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


def dup_bound(kills, clients):
    """The most extra deliveries the window of docs/hardening.md allows:
    a killed tern-remote or tern-local run redelivers the one message it
    carries (2 recipients at most here, one batch message at a time); a
    killed tern-smtpd, tern-tlsd or tern-queue the one message whose 250 it
    had not passed on (MAX_RCPTS), which the client sends again; a killed
    tern-queued every message it had committed and not yet answered (at
    most one per client). A killed tern-send makes none."""
    delivery = 2 * (kills.get("tern-remote", 0) + kills.get("tern-local", 0))
    accept = MAX_RCPTS * sum(kills.get(k, 0) for k in ("tern-smtpd", "tern-tlsd", "tern-queue"))
    accept += MAX_RCPTS * clients * kills.get("tern-queued", 0)
    return delivery + accept


def remote_batches(sink):
    """(connections that carried a message, messages over them)."""
    with sink.lock:
        per = {}
        for t in sink.transactions:
            if t.get("mail_from"):
                per[t["session"]] = per.get(t["session"], 0) + 1
    return len(per), sum(per.values())


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
    conns, rmsgs = remote_batches(inst.sink)
    pairs, lost, dups, extra = count(load, got)
    r = {"seconds": round(time.monotonic() - t0, 1), "accepted_msgs": len(load.accepted),
         "accepted_pairs": len(pairs), "client_errors": load.failed, "kills": killer.total(),
         "kills_by_program": dict(sorted(killer.kills.items())), "lost": len(lost),
         "duplicated_pairs": len(dups), "extra_deliveries": extra, "bounces": bounces,
         "drained": bool(drained), "lost_list": lost[:20],
         "delivery_side_kills": sum(killer.kills.get(k, 0) for k in DELIVERY_SIDE),
         "accept_side_kills": sum(killer.kills.get(k, 0) for k in ACCEPT_SIDE),
         "special_kills": dict(killer.special), "dup_bound": dup_bound(killer.kills, clients),
         "remote_connections": conns, "remote_msgs": rmsgs,
         "unacked_delivered": len(set(m for m, _ in got) - set(load.accepted)),
         "concurrency": inst.concurrency,
         # the instance must survive the round: a missing control/me means
         # something outside the test removed it, and the counts mean nothing
         "damaged": not os.path.exists(os.path.join(inst.home, "control", "me"))}
    for k in ("seconds", "accepted_msgs", "accepted_pairs", "client_errors", "kills", "kills_by_program",
              "special_kills", "lost", "duplicated_pairs", "extra_deliveries", "dup_bound", "bounces",
              "remote_connections", "remote_msgs", "unacked_delivered", "drained", "damaged"):
        say("%s: %s" % (k, r[k]))
    return r
