"""faults.py: the fault-injection library (tests/faultinject/faultinject.c)
from Python: an environment that preloads it, and its call log parsed.

    log = faults.Log()                         # a fresh log file
    e = faults.env(log)                        # record only
    e = faults.env(log, call="fsync", path="*/queue/tmp/*")       # fail it (EIO)
    e = faults.env(log, call="link", nth=1, prog="tern-queue", errno="ENOSPC")
    e = faults.env(log, call="write", nth=3, action="kill")      # SIGKILL before it
    e = faults.env(log, call="fsync", once="/tmp/x/fired")        # once, across processes
    subprocess.run([...], env=dict(os.environ, **e))
    calls = log.calls()        # [Call], in the order they happened
    i = faults.first(calls, "fsync", path="*/queue/tmp/*")

A Call has pid, prog, family (fsync, fdatasync, write, open (a create),
link, rename, unlink, mkdir, ftruncate), sym (the libc symbol), path,
path2 (link and rename targets), result ("0", "-1 EIO", "fault", "kill"),
data (the first bytes of a write, escaped) and fault (True when injected).
Paths are absolute, resolved through the cwd or /proc/self/fd, so a test
reads the same names whether the program uses chdir and link or dirfds
and linkat.
"""
import fnmatch
import os

import tern


def library():
    """The built library: $TERN_FAULTLIB, else beside $TERN_BIN's build."""
    p = os.environ.get("TERN_FAULTLIB") or os.path.join(os.path.dirname(tern.BIN), "tests", "faultinject.so")
    if not os.path.exists(p):
        raise RuntimeError("no fault-injection library at %s (make all builds it)" % p)
    return p


class Call:
    __slots__ = ("pid", "prog", "family", "sym", "path", "path2", "result", "data", "fault")

    def __init__(self, fields):
        f = fields + [""] * (8 - len(fields))
        self.pid, self.prog, self.family, self.sym = int(f[0]), f[1], f[2], f[3]
        self.path, self.path2, self.result, self.data = f[4], f[5], f[6], f[7]
        self.fault = self.result in ("fault", "kill")

    def ok(self):
        return not self.fault and not self.result.startswith("-1")

    def __repr__(self):
        return "%s[%d] %s %s%s %s%s" % (self.prog, self.pid, self.sym, self.path,
                                       " -> " + self.path2 if self.path2 != "-" else "", self.result,
                                       " " + repr(self.data) if self.data else "")


class Log:
    """A log file for the library, in a fresh temporary directory."""
    def __init__(self):
        self.dir = tern.tmpdir("tern-faults-")
        self.path = os.path.join(self.dir, "calls")
        self.n = 0

    def calls(self):
        try:
            with open(self.path, encoding="latin-1") as f:
                return [Call(line.rstrip("\n").split("\t")) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def clear(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def marker(self):
        """A fresh name for FAULT_ONCE (not created)."""
        self.n += 1
        return os.path.join(self.dir, "fired.%d" % self.n)


def env(log=None, call=None, nth=None, path=None, prog=None, errno=None, action=None, once=None):
    """The environment variables that preload the library (add them to a
    program's environment). Without call, the calls are only logged."""
    e = {"LD_PRELOAD": library()}
    # AddressSanitizer builds want their runtime first in the library list.
    asan = os.environ.get("ASAN_OPTIONS", "")
    e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    for k, v in (("FAULT_LOG", log.path if log else None), ("FAULT_CALL", call), ("FAULT_NTH", nth),
                 ("FAULT_PATH", path), ("FAULT_PROG", prog), ("FAULT_ERRNO", errno),
                 ("FAULT_ACTION", action), ("FAULT_ONCE", once)):
        if v is not None:
            e[k] = str(v)
    return e


def match(c, family=None, path=None, path2=None, prog=None, data=None):
    return ((family is None or c.family == family or c.sym == family)
            and (path is None or fnmatch.fnmatchcase(c.path, path))
            and (path2 is None or fnmatch.fnmatchcase(c.path2, path2))
            and (prog is None or c.prog == prog)
            and (data is None or data in c.data))


def find(calls, family=None, start=0, **kw):
    """Indexes of the calls that match, from start."""
    return [i for i in range(start, len(calls)) if match(calls[i], family, **kw)]


def first(calls, family=None, start=0, **kw):
    """Index of the first matching call from start, or None."""
    r = find(calls, family, start, **kw)
    return r[0] if r else None


def last(calls, family=None, **kw):
    r = find(calls, family, **kw)
    return r[-1] if r else None


def published(calls, created):
    """The steps of a file made durably: created (the first create whose
    path matches the pattern created), written, fsync'd, then published by
    a link or rename. Returns (create, [writes], fsync, publish): indexes
    into calls, None (or []) where a step is missing."""
    cre = first(calls, "open", path=created)
    if cre is None:
        return None, [], None, None
    f = calls[cre].path
    pub = first(calls, "link", path=f)
    if pub is None:
        pub = first(calls, "rename", path=f)
    return cre, find(calls, "write", path=f), first(calls, "fsync", path=f), pub


def show(calls, lo=0, hi=None):
    """The calls as text, for a failed test's diagnostics."""
    hi = len(calls) if hi is None else hi
    return "\n".join("%3d %r" % (i, calls[i]) for i in range(lo, min(hi, len(calls))))
