"""remotetest.py: running tern-remote by hand in tests: a queue file on fd 0,
its K/Z/D records parsed from stdout.

    recs, err = remotetest.run(home, "x.test", "a@y.test", ["b@x.test"], b"msg\\n",
                               env={"TERN_DNS": dns, "TERN_SMTP_PORT": str(port)})
    recs == [("K", "mx1.x.test [127.0.0.2] said: 250 ...")]

subjects(sink) lists the Subject of each message a sink received.
sinks(addrs, **options) starts one sink.Sink per address, all on one port
(picked free); returns (port, [sinks]).
"""
import os
import subprocess
import queuefile
import sink
import tern


def run(home, domain, sender, rcpts, message, env=None, timeout=60):
    d = tern.tmpdir()
    qf = queuefile.write(d, message, sender, rcpts)
    e = dict(os.environ, TERN_HOME=home)
    e.update(env or {})
    with open(qf, "rb") as f:
        p = subprocess.run([tern.prog("tern-remote"), domain, sender] + list(rcpts), stdin=f,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout)
    out = p.stdout
    recs = []
    if out:
        for r in out[:-1].split(b"\0") if out.endswith(b"\0") else out.split(b"\0") + [b"<unterminated>"]:
            recs.append((r[:1].decode(), r[1:].decode("latin-1")))
    return recs, p.stderr.decode("latin-1"), p.returncode


def subjects(s):
    """The Subject of each message a sink.Sink received, in order."""
    out = []
    for t in s.transactions:
        for line in t["data"].split(b"\r\n"):
            if line.startswith(b"Subject: "):
                out.append(line[9:].decode())
                break
    return out


def sinks(addrs, options=None, tries=20):
    """One Sink per address in addrs, all on the same free port. options maps
    an address to the Sink keyword arguments for it."""
    options = options or {}
    for _ in range(tries):
        port = tern.free_port(addrs[0])
        made = []
        try:
            for a in addrs:
                made.append(sink.Sink(a, port, **options.get(a, {})))
        except OSError:
            for s in made:
                s.stop()
            continue
        return port, [s.start() for s in made]
    raise RuntimeError("no common free port")
