"""deliver.py: helpers for the delivery tests (tern-send, tern-local, tern-inject).

    home = deliver.instance(users=["alice@ex.test"], control={...})
    deliver.queue(home, b"Subject: hi\\n\\nbody\\n", "a@x.test", ["alice@ex.test"])
    p, log = deliver.start_send(home)
    deliver.wait_maildir(home, "alice", 1)
"""
import os
import time
import subprocess
import threading

import tern


def instance(users=(), aliases="", control=None, newusers=True):
    """A TERN_HOME with a queue, locals ex.test, and a Maildir per user
    (local part of each address) under maildirs/NAME/."""
    c = {"me": "mx.ex.test", "locals": ["ex.test"], "retryschedule": "1"}
    c.update(control or {})
    home = tern.make_home(control=c)
    tern.make_queue(home)
    lines = []
    for u in users:
        name = u.split("@")[0]
        md = os.path.join(home, "maildirs", name)
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        lines.append("%s::maildirs/%s/\n" % (u, name))
    with open(os.path.join(home, "users"), "w") as f:
        f.write("".join(lines))
    with open(os.path.join(home, "aliases"), "w") as f:
        f.write(aliases)
    if newusers:
        subprocess.run([tern.prog("tern-newusers")], env=dict(os.environ, TERN_HOME=home), check=True)
    return home


def env(home, extra=None):
    e = dict(os.environ, TERN_HOME=home)
    e["PATH"] = tern.BIN + ":" + e.get("PATH", "/usr/bin:/bin")
    e.update(extra or {})
    return e


def queue(home, message, sender, rcpts, extra=None, envl=None):
    """Runs tern-queue; returns its exit code. envl: the envelope bytes to
    give instead of the one built from sender and rcpts."""
    if isinstance(message, str):
        message = message.encode()
    if envl is None:
        envl = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
    mr, mw = os.pipe()
    er, ew = os.pipe()
    p = subprocess.Popen([tern.prog("tern-queue")], stdin=mr, stdout=er, env=env(home, extra))
    os.close(mr)
    os.close(er)

    def feed(fd, data):
        try:
            while data:
                n = os.write(fd, data[:65536])
                data = data[n:]
        except OSError:
            pass
        os.close(fd)
    t = threading.Thread(target=feed, args=(mw, message))
    t.start()
    feed(ew, envl)
    t.join()
    return p.wait(30)


class Log:
    """Collects a process's stderr lines in a thread."""
    def __init__(self, stream):
        self.lines = []
        self._t = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._t.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    def text(self):
        return "\n".join(self.lines)

    def has(self, needle):
        return any(needle in line for line in self.lines)

    def count(self, needle):
        return sum(1 for line in self.lines if needle in line)


def fake_remote(rules=""):
    """A directory whose tern-remote is tests/lib/fake-remote; returns
    (bindir, datadir) for start_send(path_first=bindir) and its rules/runs."""
    b = tern.tmpdir("tern-fakebin-")
    os.symlink(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake-remote"),
               os.path.join(b, "tern-remote"))
    data = tern.tmpdir("tern-fakeremote-")
    with open(os.path.join(data, "rules"), "w") as f:
        f.write(rules)
    return b, data


def runs(datadir):
    """The runs fake-remote recorded, as dicts."""
    import json
    try:
        with open(os.path.join(datadir, "runs")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def start_send(home, extra=None, path_first=None):
    """Starts tern-send on home; returns (process, Log of its stderr). With
    path_first, tern-send is run by name with that directory first in PATH
    (so a stand-in tern-remote there wins)."""
    e = env(home, extra)
    argv = [tern.prog("tern-send")]
    if path_first:
        e["PATH"] = path_first + ":" + e["PATH"]
        argv = ["tern-send"]
    p = tern.spawn(argv, env=e, stderr=subprocess.PIPE)
    log = Log(p.stderr)
    tern.wait_for(lambda: log.has("tern-send: info: starting"), 10)
    return p, log


def maildir_new(home, name):
    """The messages (bytes) in maildirs/NAME/new, oldest first."""
    d = os.path.join(home, "maildirs", name, "new")
    out = []
    names = os.listdir(d) if os.path.isdir(d) else []
    for f in sorted(names, key=lambda n: (os.stat(os.path.join(d, n)).st_mtime_ns, n)):
        with open(os.path.join(d, f), "rb") as fh:
            out.append(fh.read())
    return out


def wait_maildir(home, name, n, timeout=20):
    return tern.wait_for(lambda: len(maildir_new(home, name)) >= n, timeout)


def queue_files(home, sub="mess"):
    """Paths of every file under queue/SUB/*/ ."""
    out = []
    top = os.path.join(home, "queue", sub)
    for hh in os.listdir(top) if os.path.isdir(top) else []:
        d = os.path.join(top, hh)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in os.listdir(d)]
    return out


def wait_queue_empty(home, timeout=20):
    return tern.wait_for(lambda: not queue_files(home) and not queue_files(home, "state"), timeout)


def wait_queue_drains(home, stall=60, limit=900):
    """Waits until the queue is empty for as long as it keeps shrinking: a
    wait of `stall` seconds with no message leaving fails, and `limit` bounds
    the whole (a loaded machine is slow, not stuck)."""
    end = time.monotonic() + limit
    left = len(queue_files(home))
    while time.monotonic() < end:
        if wait_queue_empty(home, min(stall, max(0.1, end - time.monotonic()))):
            return True
        now = len(queue_files(home))
        if now >= left:
            return False
        left = now
    return False
