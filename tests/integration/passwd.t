#!/usr/bin/env python3
"""tern-passwd: add, change and remove accounts; the password from stdin or a
terminal, never argv; the tables rebuilt; ownership kept when run as root.
add makes the account's Maildir, so a new account logs in over POP3 (poplib,
through tern-pop3d and tern-checkpassword) before its first message; a
symbolic link planted where the Maildir goes is not followed."""
import os
import poplib
import pty
import stat
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


def maildir_modes(md):
    return {d: oct(stat.S_IMODE(os.stat(os.path.join(md, d)).st_mode)) for d in ("", "cur", "new", "tmp")}


def test_maildir(home):
    """add makes mail/DOMAIN/LOCAL/Maildir/{cur,new,tmp}, private; POP3 sees an empty mailbox at once."""
    code, err = passwd(home, ["add", "fresh@x.test"], b"fresh pw\n")
    md = os.path.join(home, "mail", "x.test", "fresh", "Maildir")
    tap.ok(code == 0, "add fresh@x.test", err)
    tap.is_(maildir_modes(md), {d: "0o700" for d in ("", "cur", "new", "tmp")},
            "add makes the Maildir with cur/ new/ tmp/, mode 700")
    tap.is_(oct(stat.S_IMODE(os.stat(os.path.join(home, "mail", "x.test", "fresh")).st_mode)), "0o700",
            "and the directories above it, mode 700")
    pop, port, log = tern.tcpserver([tern.prog("tern-pop3d"), "-P", "-d", "0", tern.prog("tern-checkpassword"),
                                     tern.prog("tern-pop3d"), "-m"], env={"TERN_HOME": home})
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.user("fresh@x.test")
    tap.like(p.pass_("fresh pw"), b"+OK 0 messages", "a new account logs in over POP3 before its first message")
    tap.is_(p.stat(), (0, 0), "and finds an empty mailbox")
    p.quit()
    tern.stop(pop)
    # an existing Maildir is kept as it is, missing parts added
    keep = os.path.join(home, "keep", "Maildir")
    os.makedirs(os.path.join(keep, "new"))
    with open(os.path.join(keep, "new", "1.old"), "w") as f:
        f.write("Subject: kept\n\n")
    code, err = passwd(home, ["add", "keep@x.test", "keep/Maildir/"], b"k\n")
    tap.ok(code == 0 and os.listdir(os.path.join(keep, "new")) == ["1.old"] and os.path.isdir(os.path.join(keep, "cur")),
           "add over an existing Maildir keeps its mail and completes it", err)
    # a link where the Maildir goes, in a directory others could write
    os.makedirs(os.path.join(home, "mail", "evil.test"))
    os.chmod(os.path.join(home, "mail", "evil.test"), 0o777)
    target = tern.tmpdir("tern-passwd-target-")
    os.symlink(target, os.path.join(home, "mail", "evil.test", "eve"))
    code, err = passwd(home, ["add", "eve@evil.test"], b"e\n")
    tap.ok(code == 100 and "symbolic link" in err, "a symbolic link in the Maildir's path is refused", err)
    tap.is_(os.listdir(target), [], "nothing is made where it points")
    tap.ok("eve@" not in users(home), "and the account is not added")


def test_maildir_root(home):
    """Run as root, the new Maildir belongs to whoever owns mail/ (tern-local's user after make install)."""
    os.chown(os.path.join(home, "mail"), 65534, 65534)
    code, err = passwd(home, ["add", "owned@y.test"], b"o\n")
    md = os.path.join(home, "mail", "y.test", "owned", "Maildir")
    owners = {d: (os.stat(os.path.join(md, d)).st_uid, os.stat(os.path.join(md, d)).st_gid) for d in ("", "cur", "new", "tmp")}
    tap.ok(code == 0 and set(owners.values()) == {(65534, 65534)}, "root: the new Maildir takes mail/'s owner", owners)
    tap.is_(os.stat(os.path.join(home, "mail", "y.test")).st_uid, 65534, "and so do the directories above it")


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
    ann = os.path.join(tern.tmpdir("tern-passwd-abs-"), "srv", "ann", "Maildir") + "/"
    code, err = passwd(home, ["add", "ann@x.test", ann], b"ann pw\r\n")
    tap.ok(code == 0 and "ann@x.test:$" in users(home) and ":%s\n" % ann in users(home), "add with a Maildir; CRLF line")
    tap.ok(all(os.path.isdir(ann + d) for d in ("cur", "new", "tmp")), "add makes an absolute Maildir too")
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
    test_maildir(home)

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
    test_maildir_root(home)


tap.main(main)
