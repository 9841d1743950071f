"""demo.py: drive setup/make-run (what `make run` runs) from a test.

start() runs make-run in an empty directory with every service on a free
loopback port and returns once its banner is printed; interrupt() does what
Ctrl-C does; pids() finds every live process of the instance by the
TERN_HOME it carries (make-run exports it, so all descendants inherit it).
"""
import atexit
import os
import signal
import ssl
import subprocess
import threading

import tap
import tern

SERVICES = ("smtp", "submission", "smtps", "pop3", "pop3s")
USER = "demo@tern.test"


class Demo:
    def __init__(self):
        self.work = tern.tmpdir("tern-run-")
        self.home = os.path.join(self.work, "var", "demo")
        self.ports = {s: tern.free_port() for s in SERVICES}
        self.proc = None
        self.banner = ""
        self.password = None

    def start(self):
        flags = " ".join("-p %s=%d" % kv for kv in self.ports.items())
        self.proc = tern.spawn([os.path.join(tern.TOP, "setup", "make-run"), tern.BIN], cwd=self.work,
                               env={"TERN_SETUP_FLAGS": flags},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for _ in range(40):
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        self.banner = "".join(lines)
        tap.note(self.banner)
        for word in self.banner.split("password ")[1:2]:
            if not word.startswith("("):  # "(printed when ... was created)"
                self.password = word.split()[0]
        self.rest = []
        # keep reading so that make-run never blocks on a full pipe
        self.reader = threading.Thread(target=lambda: self.rest.extend(self.proc.stdout), daemon=True)
        self.reader.start()
        # Runs before tern's own cleanup (atexit is last in, first out),
        # which would SIGKILL make-run and orphan the s6 tree.
        atexit.register(self.cleanup)
        return self

    def cleanup(self):
        """A test that failed half-way still stops everything it started:
        make-run first (which shuts s6 down), then by PID whatever is left."""
        if self.proc and self.proc.poll() is None:
            self.interrupt(30)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = self.pids()
            for p in left:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
            if left:
                tern.wait_for(lambda: not self.pids(), 5)

    def up(self, timeout=30):
        return all(tern.wait_port("127.0.0.1", p, timeout) for p in self.ports.values())

    def interrupt(self, timeout=120):
        """Ctrl-C: SIGINT to the foreground process group; make-run's status."""
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(5)
        return rc

    def pids(self):
        """Live processes that carry this instance's TERN_HOME."""
        want = ("TERN_HOME=" + self.home).encode()
        found = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % p, "rb") as f:
                    env = f.read().split(b"\0")
                with open("/proc/%s/stat" % p) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if want in env and state != "Z":
                found.append(int(p))
        return found

    def maildir_new(self):
        d = os.path.join(self.home, "mail", "demo", "Maildir", "new")
        return [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []

    def arrived(self, token):
        """The Maildir file holding token, or None."""
        for f in self.maildir_new():
            try:
                with open(f, "rb") as fh:
                    if token.encode() in fh.read():
                        return f
            except OSError:
                pass
        return None

    def inject(self, sender, rcpts, text):
        """Queues a message with tern-queue (message on fd 0, envelope on fd 1)."""
        env = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
        r, w = os.pipe()
        os.write(w, env)
        os.close(w)
        try:
            p = subprocess.run([tern.prog("tern-queue")], input=text.encode(), stdout=r, timeout=30,
                               env=dict(os.environ, TERN_HOME=self.home))
        finally:
            os.close(r)
        return p.returncode


def tls_context():
    """The demo's certificate is self-signed: no verification in the tests."""
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c
