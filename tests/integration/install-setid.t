#!/usr/bin/env python3
"""An unprivileged local user against the set-id programs of an installed
instance (docs/security.md): tern-queue (setuid and setgid to the queue
user, anyone may run it) and tern-local (setuid to the Maildirs' owner, run
by the scheduler's group). Every attempt fails with a clear error and
nothing enters the queue, or (a harmless attempt) the message lands in the
real queue only, owned by the queue user, with the content that was sent.
Installs into a temporary home with the set-id programs built for it."""
import fcntl
import json
import os
import pwd
import resource
import stat
import subprocess
import sys
import termios
import time

import tap
import tern

USERS = [l.strip() for l in open(os.path.join(tern.TOP, "conf-users")).read().splitlines()[:8]]
NET, QUEUE, SEND, REMOTE, LOCAL, TLS, AUTH, LOG = USERS
NOBODY = 65534
# the attacker cannot read a python under /root (pyenv)
PY = "/usr/bin/python3"
MSG = b"Subject: from nobody\n\n" + b"".join(b"line %04d of a message that nobody sends\n" % i for i in range(400))
ENV = b"Fnobody@tern.test\0Tdemo@tern.test\0\0"

# Run as the attacker: starts tern-queue on pipes, lets it read the first
# chunk of the message (so it has made its file and waits for more), tries
# what the arguments say meanwhile, then sends the rest.
ATTACK = r'''
import fcntl, json, os, subprocess, sys, termios, time
a = json.loads(sys.argv[1])
out = {"seen": [], "swapped": False, "real_tmp": []}
for d in a.get("mkdirs", []):
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
for link, target in a.get("links", []):
    os.symlink(target, link)
mr, mw = os.pipe()
er, ew = os.pipe()
p = subprocess.Popen([a["prog"]], stdin=mr, stdout=er, stderr=subprocess.PIPE, env=a["env"])
os.close(mr); os.close(er)
msg = a["msg"].encode("latin1")
os.write(mw, msg[:4096])
end = time.monotonic() + 20
def pending():
    b = bytearray(4)
    fcntl.ioctl(mw, termios.FIONREAD, b)
    return int.from_bytes(b, sys.byteorder)
while pending() and p.poll() is None and time.monotonic() < end:
    time.sleep(0.01)
out["drained"] = not pending()
# tern-queue now holds its file open and waits for the rest of the message
if a.get("evil_tmp"):
    out["seen"] = sorted(os.listdir(a["evil_tmp"]))
    for f in out["seen"]:
        path = os.path.join(a["evil_tmp"], f)
        os.unlink(path)
        with open(path, "wb") as g:
            g.write(b"forged by nobody\n")
        os.chmod(path, 0o666)
        out["swapped"] = True
for what, call in (("list", lambda: os.listdir(a["real_tmp"])),
                   ("create", lambda: os.close(os.open(os.path.join(a["real_tmp"], "0000000000000001"),
                                                       os.O_WRONLY | os.O_CREAT, 0o666)))):
    try:
        call()
        out["real_tmp"].append(what + ": allowed")
    except OSError as e:
        out["real_tmp"].append(what + ": " + e.strerror)
os.write(mw, msg[4096:])
os.close(mw)
os.write(ew, a["env_rec"].encode("latin1"))
os.close(ew)
out["stderr"] = p.stderr.read().decode(errors="replace")
out["code"] = p.wait(30)
print(json.dumps(out))
'''


def as_user(uid, gid, argv, groups=(), **kw):
    return subprocess.run(argv, user=uid, group=gid, extra_groups=list(groups), capture_output=True, timeout=60, **kw)


class Instance:
    def __init__(self, home):
        self.home = home
        self.q = os.path.join(home, "queue")
        self.prog = lambda p: os.path.join(home, "bin", p)

    def messages(self):
        """{id: path} of every committed message."""
        m = os.path.join(self.q, "mess")
        return {f: os.path.join(m, hh, f) for hh in os.listdir(m) if os.path.isdir(os.path.join(m, hh))
                for f in os.listdir(os.path.join(m, hh))}

    def queue(self, message=b"m\n", envelope=ENV, env=None, shell="", limit=None):
        """tern-queue as nobody: message on fd 0, envelope on fd 1; shell
        wraps it (e.g. 'exec "$@" 2>&-'). Returns (exit, stderr, new ids)."""
        before = self.messages()
        mr, mw = os.pipe()
        er, ew = os.pipe()
        argv = ["sh", "-c", shell or 'exec "$@"', "sh", self.prog("tern-queue")]
        pre = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))) if limit else None
        p = subprocess.Popen(argv, stdin=mr, stdout=er, stderr=subprocess.PIPE, user=NOBODY, group=NOBODY,
                             extra_groups=[], env=env or {"PATH": "/usr/bin:/bin"}, preexec_fn=pre)
        os.close(mr); os.close(er)
        for fd, data in ((mw, message), (ew, envelope)):
            try:
                while data:
                    data = data[os.write(fd, data[:65536]):]
            except OSError:
                pass
            os.close(fd)
        err = p.stderr.read().decode(errors="replace")
        code = p.wait(30)
        return code, err, sorted(set(self.messages()) - set(before))

    def tmp_files(self):
        return os.listdir(os.path.join(self.q, "tmp"))


def check_owned(inst, ids, content, what):
    """The new message is in the real queue, the queue user's, mode 640,
    with content as sent, and nobody can rewrite it."""
    qpw = pwd.getpwnam(QUEUE)
    paths = [inst.messages()[i] for i in ids]
    tap.is_(len(paths), 1, "%s: one message in the real queue" % what)
    if len(paths) != 1:
        return
    st = os.stat(paths[0])
    tap.is_((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (qpw.pw_uid, qpw.pw_gid, 0o640),
            "%s: it belongs to %s, mode 640" % (what, QUEUE))
    data = open(paths[0], "rb").read()
    try:
        m, s, r = tern.parse_queue_file(data)
    except ValueError:
        m, r = data, None
    tap.ok(m == content and r == ["demo@tern.test"], "%s: with the content that was sent" % what, m[:60])
    r = as_user(NOBODY, NOBODY, [PY, "-c", "import sys; open(sys.argv[1], 'r+b')", paths[0]])
    tap.ok(r.returncode != 0 and b"PermissionError" in r.stderr, "%s: nobody cannot rewrite it" % what)


def install(base):
    home = os.path.join(base, "tern")
    bindir = tern.install_bin(home)
    if not bindir:
        return None
    ports = " ".join("-p %s=%d" % (s, tern.free_port()) for s in ("smtp", "submission", "smtps", "pop3", "pop3s"))
    r = subprocess.run([os.path.join(tern.TOP, "setup", "make-install"), bindir, home],
                       env=dict(os.environ, TERN_SETUP_FLAGS="-i 127.0.0.1 " + ports, MANDIR=""),
                       capture_output=True, text=True, timeout=120)
    tap.note(r.stdout + r.stderr)
    return home if r.returncode == 0 else None


def redirect_and_swap(inst, aw):
    """TERN_HOME names a home of nobody's whose queue/mess is the real one:
    the old way to get a file of one's own committed into the real queue."""
    evil = os.path.join(aw, "evil")
    args = {"prog": inst.prog("tern-queue"), "msg": MSG.decode("latin1"), "env_rec": ENV.decode("latin1"),
            "env": {"TERN_HOME": evil, "PATH": "/usr/bin:/bin"},
            "mkdirs": [evil, os.path.join(evil, "queue"), os.path.join(evil, "queue", "tmp")],
            "links": [[os.path.join(evil, "queue", "mess"), os.path.join(inst.q, "mess")]],
            "evil_tmp": os.path.join(evil, "queue", "tmp"), "real_tmp": os.path.join(inst.q, "tmp")}
    before = inst.messages()
    r = as_user(NOBODY, NOBODY, [PY, "-c", ATTACK, json.dumps(args)])
    try:
        out = json.loads(r.stdout)
    except ValueError:
        tap.ok(False, "the attacker ran", r.stdout + r.stderr)
        return
    tap.ok(out["drained"], "tern-queue read the first chunk and waits for the rest")
    tap.is_(out["real_tmp"], ["list: Permission denied", "create: Permission denied"],
            "meanwhile nobody can neither list nor create files in the real queue/tmp/")
    tap.ok(not out["swapped"] and out["seen"] == [] and os.listdir(os.path.join(evil, "queue", "tmp")) == [],
           "TERN_HOME is ignored: nothing appears in nobody's queue/tmp/ to swap", out)
    tap.ok(out["code"] == 0, "the message is queued (exit 0)", out["stderr"])
    check_owned(inst, sorted(set(inst.messages()) - set(before)), MSG, "TERN_HOME redirection")


def queue_ids(inst):
    now = int(time.time())
    fresh = "%08x" % now + "0badc0de"
    for qid, name in (("0000000000000000", "all zero (tern-send would never see it)"),
                      ("00000001deadbeef", "from 1970 (expired at once)"),
                      ("%08x" % (now + 86400 * 365) + "deadbeef", "a year ahead (never expires)"),
                      ("../../../etc/xx", "a path")):
        code, err, ids = inst.queue(env={"TERN_QUEUEID": qid, "PATH": "/usr/bin:/bin"})
        t = int(ids[0][:8], 16) if len(ids) == 1 else 0
        tap.ok(code == 0 and len(ids) == 1 and ids[0] != qid and abs(t - now) < 600,
               "TERN_QUEUEID %s: not used, a fresh ID is (%s)" % (name, ids), err)
    code, err, ids = inst.queue(env={"TERN_QUEUEID": fresh, "PATH": "/usr/bin:/bin"})
    tap.ok(code == 0 and ids == [fresh], "a fresh proposed ID (what tern-smtpd sends) is used", err)
    code, err, ids = inst.queue(env={"TERN_QUEUEID": fresh, "PATH": "/usr/bin:/bin"})
    tap.ok(code == 0 and len(ids) == 1 and ids[0] != fresh, "proposed again: taken, so another is picked", err)


def misconfigured(inst, aw):
    """Queue directories that are links, or not the queue user's alone: refused."""
    theirs = os.path.join(aw, "theirs")
    os.mkdir(theirs)
    os.chown(theirs, NOBODY, NOBODY)
    os.chmod(theirs, 0o777)
    tmp, mess = os.path.join(inst.q, "tmp"), os.path.join(inst.q, "mess")
    hh = "ab"
    fresh = "%08x" % int(time.time()) + "000000" + hh
    bucket = os.path.join(mess, hh)

    def attempt(name, expect, setup, undo, env=None):
        setup()
        try:
            code, err, ids = inst.queue(env=env)
        finally:
            undo()
        tap.ok(code == 62 and expect in err and not ids and not os.listdir(theirs) and not inst.tmp_files(),
               "%s: exit 62 (%s), nothing queued or written anywhere" % (name, expect), "%d %s %s" % (code, err, ids))

    attempt("queue/tmp/ a link to a directory of nobody's", "queue/tmp/: a symbolic link",
            lambda: (os.rename(tmp, tmp + ".real"), os.symlink(theirs, tmp)),
            lambda: (os.unlink(tmp), os.rename(tmp + ".real", tmp)))
    attempt("queue/mess/%s/ a link to a directory of nobody's" % hh, "queue/mess/HH/: a symbolic link",
            lambda: (os.rename(bucket, bucket + ".real"), os.symlink(theirs, bucket)),
            lambda: (os.unlink(bucket), os.rename(bucket + ".real", bucket)),
            env={"TERN_QUEUEID": fresh, "PATH": "/usr/bin:/bin"})
    qpw = pwd.getpwnam(QUEUE)
    attempt("queue/mess/%s/ owned by nobody" % hh, "does not belong to the queue user",
            lambda: os.chown(bucket, NOBODY, qpw.pw_gid), lambda: os.chown(bucket, qpw.pw_uid, qpw.pw_gid),
            env={"TERN_QUEUEID": fresh, "PATH": "/usr/bin:/bin"})
    attempt("queue/tmp/ that anyone may write", "queue/tmp/: others may write it",
            lambda: os.chmod(tmp, 0o733), lambda: os.chmod(tmp, 0o700))


def process_state(inst):
    """Closed descriptors and a tiny file size limit from the caller."""
    code, err, ids = inst.queue(MSG, shell='exec "$@" 0<&-')
    tap.ok(code == 54 and "fd 0 (the message) and fd 1 (the envelope) must be open" in err and not ids,
           "fd 0 closed: exit 54, says so, nothing queued", "%d %s" % (code, err))
    code, err, ids = inst.queue(MSG, shell='exec "$@" 2>&-')
    tap.is_(code, 0, "fd 2 closed: queued")
    check_owned(inst, ids, MSG, "fd 2 closed")
    code, err, ids = inst.queue(MSG, b"Xbad\0\0", shell='exec "$@" 2>&-')
    tap.ok(code == 91 and not ids and not inst.tmp_files(), "fd 2 closed, bad envelope: exit 91, nothing left")
    code, err, ids = inst.queue(MSG * 4, limit=4096)
    tap.ok(code == 53 and "write the queue file: File too large" in err and not ids and not inst.tmp_files(),
           "RLIMIT_FSIZE 4096: exit 53 (temporary), nothing queued or left in tmp/", "%d %s" % (code, err))


def scheduler_local(inst, aw):
    """tern-local run by the scheduler's group with an environment of its
    choosing: TERN_HOME naming its own tables, PATH its own tern-queue."""
    spw, qpw = pwd.getpwnam(SEND), pwd.getpwnam(QUEUE)
    evil = os.path.join(aw, "local")
    os.mkdir(evil)
    os.chown(evil, spw.pw_uid, spw.pw_gid)
    # the scheduler's own home: users.cdb sends demo@tern.test to its Maildir
    setup = r'''
import os, subprocess, sys
evil, prog = sys.argv[1], sys.argv[2]
for d in ("control", "bin", "md/tmp", "md/new", "md/cur"):
    os.makedirs(os.path.join(evil, d))
for d in ("bin", "md", "md/tmp", "md/new", "md/cur"):
    os.chmod(os.path.join(evil, d), 0o777)
open(os.path.join(evil, "control/locals"), "w").write("tern.test\n")
open(os.path.join(evil, "users"), "w").write("demo@tern.test::%s/md/\n" % evil)
open(os.path.join(evil, "aliases"), "w").write("")
subprocess.run([prog], env={"TERN_HOME": evil}, check=True)
q = os.path.join(evil, "bin/tern-queue")
open(q, "w").write("#!/bin/sh\nid -un > %s/bin/ran-as\ncat >/dev/null\nexit 0\n" % evil)
os.chmod(q, 0o755)
'''
    r = as_user(spw.pw_uid, spw.pw_gid, [PY, "-c", setup, evil, inst.prog("tern-newusers")])
    tap.ok(r.returncode == 0, "the scheduler's user makes tables and a tern-queue of its own", r.stderr)
    with open(os.path.join(inst.home, "aliases"), "a") as f:
        f.write("fwd@tern.test: someone@remote.test\n")
    subprocess.run([inst.prog("tern-newusers")], env=dict(os.environ, TERN_HOME=inst.home), check=True)
    body = b"Subject: for demo\n\nhello\n"
    qf = os.path.join(aw, "queuefile")
    with open(qf, "wb") as f:
        f.write(body + b"Fx@far.test\0Tdemo@tern.test\0Tfwd@tern.test\0\0" + b"%020d\n" % len(body))
    os.chmod(qf, 0o644)

    def local(rcpt, env):
        with open(qf, "rb") as f:
            r = as_user(spw.pw_uid, spw.pw_gid, [inst.prog("tern-local"), "x@far.test", rcpt],
                        groups=[qpw.pw_gid], stdin=f, env=dict(env, PATH=env.get("PATH", "/usr/bin:/bin")))
        return [x.decode(errors="replace") for x in r.stdout.split(b"\0")[:-1]], r.stderr.decode(errors="replace")

    recs, err = local("demo@tern.test", {"TERN_HOME": evil})
    real_md = os.path.join(inst.home, "mail", "demo", "Maildir")
    tap.ok(len(recs) == 1 and recs[0].startswith("Kdelivered to %s/new/" % real_md),
           "TERN_HOME is ignored: demo's mail goes to the instance's Maildir", "%s %s" % (recs, err))
    tap.is_(os.listdir(os.path.join(evil, "md", "new")), [], "nothing in the scheduler's Maildir")
    before = inst.messages()
    recs, err = local("fwd@tern.test", {"PATH": evil + "/bin:/usr/bin:/bin", "TERNQUEUE": evil + "/bin/tern-queue"})
    tap.ok(recs == ["Kforwarded"], "the alias is forwarded", "%s %s" % (recs, err))
    tap.ok(not os.path.exists(os.path.join(evil, "bin", "ran-as")),
           "PATH and TERNQUEUE are ignored: the scheduler's tern-queue never ran as %s" % LOCAL)
    new = sorted(set(inst.messages()) - set(before))
    got = [tern.parse_queue_file(open(inst.messages()[i], "rb").read())[1:] for i in new]
    tap.is_(got, [("x@far.test", ["someone@remote.test"])], "the instance's own tern-queue queued the forward")


def main():
    if os.geteuid() != 0:
        tap.skip_all("installing set-id programs needs root")
    base = tern.tmpdir("tern-setid-")
    os.chmod(base, 0o755)
    home = install(base)
    tap.ok(home, "the instance is installed, its set-id programs built for it")
    if not home:
        return
    inst = Instance(home)
    aw = tern.tmpdir("tern-attacker-")
    os.chown(aw, NOBODY, NOBODY)
    os.chmod(aw, 0o755)
    redirect_and_swap(inst, aw)
    queue_ids(inst)
    misconfigured(inst, aw)
    process_state(inst)
    scheduler_local(inst, aw)


tap.main(main)
