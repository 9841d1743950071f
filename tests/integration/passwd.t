#!/usr/bin/env python3
"""tern-passwd: add, change and remove accounts; the password from stdin or a
terminal, never argv; the tables rebuilt; ownership kept when run as root."""
import os
import pty
import subprocess
import time

import tap
import tern


def passwd(home, args, stdin=b""):
    r = subprocess.run([tern.prog("tern-passwd")] + args, input=stdin, env=dict(os.environ, TERN_HOME=home),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    return r.returncode, r.stderr.decode()


def login(home, user, pw):
    r = subprocess.run(["sh", "-c", 'exec "$@" 3<&0 0</dev/null', "sh", tern.prog("tern-checkpassword"), "true"],
                       input=user.encode() + b"\0" + pw.encode() + b"\0\0", env=dict(os.environ, TERN_HOME=home),
                       stderr=subprocess.PIPE, timeout=20)
    return r.returncode


def users(home):
    with open(os.path.join(home, "users")) as f:
        return f.read()


def on_tty(home, args, answers):
    """Runs tern-passwd on a pseudo-terminal, typing each answer after its prompt."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERN_HOME"] = home
        os.execv(tern.prog("tern-passwd"), [tern.prog("tern-passwd")] + args)
    seen = b""
    end = time.monotonic() + 20
    for a in answers:
        while not (seen.rstrip().endswith(b":")) and time.monotonic() < end:
            try:
                seen += os.read(fd, 100)
            except OSError:
                break
        os.write(fd, a + b"\n")
        seen += b"|"
    while time.monotonic() < end:
        try:
            c = os.read(fd, 100)
        except OSError:
            break
        if not c:
            break
        seen += c
    _, st = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(st), seen.decode(errors="replace")


def main():
    home = tern.make_home({"me": "x.test"})
    code, err = passwd(home, ["add", "joe@x.test"], b"pw one\n")
    tap.is_(code, 0, "add: exit 0", )
    tap.like(users(home), "joe@x.test:$y$", "add: a yescrypt hash in the users file")
    tap.like(users(home), ":mail/x.test/joe/Maildir/\n", "add: default Maildir mail/DOMAIN/LOCAL/Maildir/")
    tap.is_(oct(os.stat(os.path.join(home, "users")).st_mode & 0o777), "0o600", "users file private")
    tap.is_(oct(os.stat(os.path.join(home, "passwd.cdb")).st_mode & 0o777), "0o600", "passwd.cdb private")
    tap.is_(login(home, "joe@x.test", "pw one"), 0, "add: the new account logs in at once (tables rebuilt)")
    tap.ok("pw one" not in users(home), "the clear password is nowhere in the file")
    code, err = passwd(home, ["add", "joe@x.test"], b"other\n")
    tap.ok(code == 100 and "already a user" in err, "add twice: exit 100", err)
    code, err = passwd(home, ["add", "ann@x.test", "/srv/ann/Maildir/"], b"ann pw\r\n")
    tap.ok(code == 0 and "ann@x.test:$" in users(home) and ":/srv/ann/Maildir/" in users(home), "add with a Maildir; CRLF line")
    tap.is_(login(home, "ann@x.test", "ann pw"), 0, "CR stripped from the password")
    tap.is_(passwd(home, ["add", "a/b@x.test"], b"x\n")[0], 100, "odd address without a Maildir: refused")
    tap.is_(passwd(home, ["add", "bob@x.test"], b"\n")[0], 100, "empty password: refused")
    tap.is_(passwd(home, ["add", "bob@x.test"], b"x" * 300 + b"\n")[0], 100, "overlong password: refused")
    tap.is_(passwd(home, ["add", "bob@x.test", "../../etc/"], b"x\n")[0], 100, "bad Maildir: refused")
    tap.ok("bob@" not in users(home), "refused adds change nothing")

    code, err = passwd(home, ["change", "JOE@x.test"], b"pw two\n")
    tap.is_(code, 0, "change: exit 0")
    tap.ok(login(home, "joe@x.test", "pw two") == 0 and login(home, "joe@x.test", "pw one") == 1, "change: new password in, old out")
    tap.is_(passwd(home, ["change", "nobody@x.test"], b"x\n")[0], 100, "change an unknown user: exit 100")

    code, err = passwd(home, ["remove", "joe@x.test"])
    tap.ok(code == 0 and "joe@" not in users(home), "remove: gone from the file")
    tap.is_(login(home, "joe@x.test", "pw two"), 1, "remove: can no longer log in")
    tap.is_(passwd(home, ["remove", "joe@x.test"])[0], 100, "remove twice: exit 100")
    tap.is_(passwd(home, ["frobnicate", "x@x.test"])[0], 100, "usage error: exit 100")

    r = subprocess.run([tern.prog("tern-passwd"), "-h"], input=b"hash me\n", stdout=subprocess.PIPE, timeout=20)
    tap.ok(r.returncode == 0 and r.stdout.startswith(b"$y$") and r.stdout.endswith(b"\n"), "-h prints a hash")

    code, seen = on_tty(home, ["add", "tty@x.test"], [b"typed pw", b"typed pw"])
    tap.ok(code == 0 and "Password for tty@x.test:" in seen and "Again:" in seen, "terminal: asked twice", seen)
    tap.ok("typed pw" not in seen, "terminal: not echoed")
    tap.is_(login(home, "tty@x.test", "typed pw"), 0, "terminal: the password works")
    code, seen = on_tty(home, ["change", "tty@x.test"], [b"one", b"two"])
    tap.ok(code == 100 and "differ" in seen, "terminal: different answers refused", seen)

    if os.getuid() != 0:
        tap.note("not root: ownership tests skipped")
        return
    os.chown(os.path.join(home, "users"), 65534, 65534)
    code, err = passwd(home, ["change", "ann@x.test"], b"ann new\n")
    st, sc = os.stat(os.path.join(home, "users")), os.stat(os.path.join(home, "passwd.cdb"))
    tap.ok(code == 0 and st.st_uid == 65534 and sc.st_uid == 65534, "root: users and passwd.cdb keep the auth user as owner")


tap.main(main)
