"""tern.py: shared helpers for integration tests.

Everything a test starts is tracked and killed by PID when the test exits
(never by name). Servers listen only on loopback, on ports picked free.
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

TOP = os.environ.get("TERN_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TERN_BIN") or os.path.join(TOP, "build", "bin")

_procs = []
_dirs = []


def prog(name):
    """Absolute path of a built program."""
    return os.path.join(BIN, name)


def tmpdir(prefix="tern-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _dirs.append(d)
    return d


def free_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_udp_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=10.0, step=0.02):
    """Polls cond() until it returns something true or the time is up."""
    end = time.monotonic() + timeout
    while True:
        r = cond()
        if r or time.monotonic() > end:
            return r
        time.sleep(step)


def can_connect(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect((host, port))
            return True
    except OSError:
        return False


def wait_port(host, port, timeout=10.0):
    return wait_for(lambda: can_connect(host, port), timeout)


def spawn(argv, env=None, **kw):
    """Starts a process that is killed (by PID, with its process group) at exit."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.Popen(argv, env=e, start_new_session=True, **kw)
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=5.0):
    """Stops p and its process group; returns its exit status."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    return p.returncode


def _cleanup():
    for p in _procs:
        stop(p, signal.SIGKILL, 2)
    if not os.environ.get("TERN_KEEP"):
        for d in _dirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def make_home(control=None, files=None):
    """A fresh TERN_HOME with control/ files: control maps name -> text
    (a list becomes one line per item); files maps relative path -> text."""
    home = tmpdir("tern-home-")
    os.makedirs(os.path.join(home, "control"))
    base = {"me": "mx.tern.test"}
    base.update(control or {})
    for name, text in base.items():
        if text is None:
            continue
        if isinstance(text, (list, tuple)):
            text = "".join(str(x) + "\n" for x in text)
        with open(os.path.join(home, "control", name), "w") as f:
            f.write(text if text.endswith("\n") or not text else text + "\n")
    for rel, text in (files or {}).items():
        path = os.path.join(home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return home


def dnsmasq(records, domains=("test",)):
    """Starts dnsmasq on 127.0.0.1 at a free port serving only what records
    lists: dnsmasq options such as "--mx-host=a.test,mx.a.test,10".
    Returns (process, "127.0.0.1:PORT") for TERN_DNS. When the port was taken
    between picking and binding (other suites run at the same time), dnsmasq
    exits; it is then started again on another port, a few times."""
    for attempt in range(5):
        port = free_udp_port()
        argv = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=%d" % port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                "--no-hosts", "--local-ttl=60", "--pid-file="]
        argv += ["--local=/%s/" % d for d in domains]
        argv += list(records)
        p = spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        addr = "127.0.0.1:%d" % port

        def up():
            if p.poll() is not None:
                return "exited"
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.2)
            try:
                # a minimal query for "." type NS: any answer means it listens
                s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01", ("127.0.0.1", port))
                s.recv(512)
                return True
            except OSError:
                return False
            finally:
                s.close()
        r = wait_for(up, 10)
        if r is True:
            return p, addr
        stop(p)
    raise RuntimeError("dnsmasq did not start")


SETID_PROGS = ("tern-queue", "tern-local", "tern-remote", "tern-checkpassword", "tern-dkimseal")


def setid_build(home, progs=SETID_PROGS):
    """The set-id programs built again with home as their compiled home (a
    set-id program uses no other: docs/security.md), in a temporary build
    directory, with the sanitizers of this build (TERN_SAN). Returns the
    directory that holds them, or None (the reason is printed as a TAP
    comment)."""
    out = tmpdir("tern-setid-build-")
    targets = [os.path.join(out, "bin", p) for p in progs]
    r = subprocess.run(["make", "-s", "-j2", "-C", TOP, "O=" + out, "HOMEDIR=" + home,
                        "SAN=" + os.environ.get("TERN_SAN", "")] + targets,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    if r.returncode != 0:
        print("# setid_build failed:\n# " + r.stdout.decode(errors="replace").replace("\n", "\n# "))
        return None
    return os.path.join(out, "bin")


def install_bin(home):
    """A directory for setup/make-install BINDIR HOME: every program of this
    build, the set-id ones built again for home (setid_build). None when
    that build fails."""
    built = setid_build(home)
    if not built:
        return None
    out = tmpdir("tern-install-bin-")
    for f in os.listdir(BIN):
        src = os.path.join(built if f in SETID_PROGS else BIN, f)
        if f.startswith("tern-") and os.path.isfile(src):
            shutil.copy2(src, os.path.join(out, f))
    return out


def make_queue(home):
    """Creates the queue directories of docs/INTERNALS.md under home."""
    for d in ("queue/tmp", "queue/mess", "queue/state", "queue/job"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    return os.path.join(home, "queue")


def parse_queue_file(data):
    """Splits a queue file (message | envelope | 20-digit length + LF) into
    (message, sender, [recipients]); raises ValueError when it is not whole."""
    if len(data) < 21 + 4 or data[-1:] != b"\n" or not data[-21:-1].isdigit():
        raise ValueError("bad trailer")
    mlen = int(data[-21:-1])
    env = data[mlen:-21]
    if mlen > len(data) - 21 or not env.startswith(b"F") or not env.endswith(b"\0\0"):
        raise ValueError("bad envelope")
    recs = env[:-1].split(b"\0")[:-1]
    if any(not r[1:] for r in recs[1:]) or any(r[:1] != b"T" for r in recs[1:]) or len(recs) < 2:
        raise ValueError("bad envelope records")
    return data[:mlen], recs[0][1:].decode(), [r[1:].decode() for r in recs[1:]]


def queued_messages(home):
    """Every committed queue file under home as (id, message, sender, rcpts)."""
    out = []
    mess = os.path.join(home, "queue", "mess")
    for hh in sorted(os.listdir(mess)) if os.path.isdir(mess) else []:
        for qid in sorted(os.listdir(os.path.join(mess, hh))):
            with open(os.path.join(mess, hh, qid), "rb") as f:
                out.append((qid,) + parse_queue_file(f.read()))
    return out


def mount_tmpfs(path, size):
    """Mounts a tmpfs of size (e.g. "64k") over path, unmounted at exit,
    mode 755 (tmpfs's default 1777 is a directory anyone may write, which
    tern-queue and tern-local refuse). Returns False when it cannot (not
    root, no mount permission)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=755" % size, "tmpfs", path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        return False
    atexit.register(lambda: subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL))
    return True


# A queue program (TERNQUEUE) that takes the message, answers success and
# writes its sorted environment to $OUT, without the per-connection ports
# and the queue ID: the pool tests compare it between the two modes.
ENV_QUEUE_PROG = """#!/bin/sh
cat >/dev/null
cat <&1 >/dev/null 2>&1
env | grep -v -e '^TERN_QUEUEID=' -e '^TCPREMOTEPORT=' -e '^TCPLOCALPORT=' -e '^OUT=' | sort > "$OUT.$$"
mv "$OUT.$$" "$OUT"
exit 0
"""


def poolable(chain):
    """A chain tern-tcpserver -w can pool (docs/pool.md): tern-smtpd, or
    tern-tlsd [options] tern-smtpd (a pooled tern-tlsd owns a resident
    tern-smtpd worker; any other program it runs is not pool-aware)."""
    names = [os.path.basename(a) for a in chain]
    if names[0] == "tern-smtpd":
        return True
    if names[0] != "tern-tlsd":
        return False
    i = 1
    while i < len(chain) and chain[i].startswith("-"):
        i += 2 if chain[i] in ("-t", "-s", "-u", "-g", "-k", "-c") else 1
    return i < len(chain) and names[i] == "tern-smtpd"


def tcpserver(argv_chain, rules=None, host="127.0.0.1", env=None, opts=()):
    """Runs argv_chain under tern-tcpserver -v on host, on a port the kernel
    picks free (tern-tcpserver -1 reports it, so no probe connection runs
    the chain before the test does).

    rules: tcprules text (e.g. '127.0.0.1:allow,RELAYCLIENT=""\\n:deny\\n'),
    compiled with tern-tcprules into a temporary cdb given with -x; None
    gives no -x (every client allowed). opts: more tern-tcpserver options,
    e.g. ("-c", "5", "-B", "banner"). env: added to the environment.
    Runs as the current user (-u/-g with our own ids).

    Returns (proc, port, log): proc the Popen (stop(proc) ends it with
    SIGTERM), port the int TCP port, log the path of the file that gets
    tern-tcpserver's stderr: its -v lines ("tern-tcpserver: ok PID ...",
    "deny", "end PID status N", "status: N/M") and the programs' stderr.
    The compiled rules are rules.cdb in the same directory as log, so a
    test can recompile them (tern-tcprules CDB CDB.tmp) while it runs."""
    import select
    # TERN_TEST_POOL=1 runs a pool-aware chain in pool mode (docs/pool.md):
    # the launcher's tests then run in both modes (tests/integration/pool_modes.t)
    if os.environ.get("TERN_TEST_POOL") and poolable(argv_chain) and "-w" not in opts:
        opts = tuple(opts) + ("-w", "100")
    d = tmpdir("tern-tcpserver-")
    argv = [prog("tern-tcpserver"), "-v", "-u", str(os.getuid()), "-g", str(os.getgid()), "-1"]
    if rules is not None:
        cdb = os.path.join(d, "rules.cdb")
        r = subprocess.run([prog("tern-tcprules"), cdb, cdb + ".tmp"], input=rules.encode(),
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("tern-tcprules failed: " + r.stderr.decode(errors="replace"))
        argv += ["-x", cdb]
    argv += list(opts) + [host, "0"] + list(argv_chain)
    log = os.path.join(d, "log")
    with open(log, "wb") as lf:
        p = spawn(argv, env=env, stdout=subprocess.PIPE, stderr=lf)
    line = b""
    end = time.monotonic() + 10
    while not line.endswith(b"\n") and time.monotonic() < end:
        if select.select([p.stdout], [], [], 0.5)[0]:
            c = os.read(p.stdout.fileno(), 64)
            if not c:
                break
            line += c
    p.stdout.close()
    if not line.strip().isdigit():
        stop(p)
        with open(log, "rb") as f:
            raise RuntimeError("tern-tcpserver did not start: " + f.read().decode(errors="replace"))
    return p, int(line), log


def add_user(home, address, password, maildir=None):
    """Adds a mail account with tern-passwd (users, users.cdb, passwd.cdb)
    and creates its Maildir (new/, cur/, tmp/). Returns the Maildir path:
    maildir if given (absolute), else tern-passwd's default,
    $TERN_HOME/mail/DOMAIN/LOCAL/Maildir."""
    argv = [prog("tern-passwd"), "add", address] + ([maildir] if maildir else [])
    r = subprocess.run(argv, input=(password + "\n").encode(), env=dict(os.environ, TERN_HOME=home),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    if r.returncode:
        raise RuntimeError("tern-passwd failed: " + r.stderr.decode(errors="replace"))
    local, domain = address.split("@", 1)
    md = maildir or os.path.join(home, "mail", domain, local, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    return md
