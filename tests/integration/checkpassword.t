#!/usr/bin/env python3
"""tern-checkpassword against the checkpassword interface: data on fd 3,
exit codes 0/1/2/111, USER and HOME, and (as root) its setuid use."""
import os
import shutil
import subprocess

import tap
import tern

FD3 = 'exec "$@" 3<&0 0</dev/null'


def checkpw(home, data, prog=("sh", "-c", 'echo "USER=$USER HOME=$HOME uid=$(id -u)"'), env=None, fd3=True, pre=()):
    e = dict(os.environ, TERN_HOME=home)
    e.update(env or {})
    argv = list(pre) + [tern.prog("tern-checkpassword")] + list(prog)
    if fd3:
        argv = ["sh", "-c", FD3, "sh"] + argv
    r = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=20)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def adduser(home, address, password, maildir=None):
    argv = [tern.prog("tern-passwd"), "add", address] + ([maildir] if maildir else [])
    r = subprocess.run(argv, input=(password + "\n").encode(), env=dict(os.environ, TERN_HOME=home),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    if r.returncode:
        raise RuntimeError(r.stderr.decode())


def main():
    home = tern.make_home({"me": "x.test"})
    adduser(home, "joe@x.test", "right horse")
    adduser(home, "ann@x.test", "ann's", "/srv/mail/ann/Maildir/")
    with open(os.path.join(home, "users"), "a") as f:
        f.write("locked@x.test:!:mail/locked/Maildir/\nnopw@x.test::mail/nopw/Maildir/\n")
    subprocess.run([tern.prog("tern-newusers")], env=dict(os.environ, TERN_HOME=home), check=True)

    code, out, err = checkpw(home, b"joe@x.test\0right horse\x00123\0")
    tap.is_(code, 0, "good login: exit 0 from the program run")
    tap.like(out, "USER=joe@x.test HOME=%s/mail/x.test/joe " % home, "USER and HOME (the Maildir's parent) set")
    code, out, err = checkpw(home, b"Joe@X.TEST\0right horse\0\0")
    tap.ok(code == 0 and "USER=joe@x.test " in out, "address case does not matter; USER is canonical")
    code, out, err = checkpw(home, b"ann@x.test\0ann's\0")
    tap.ok(code == 0 and "HOME=/srv/mail/ann " in out, "absolute Maildir; timestamp may be missing")
    code, out, _ = checkpw(home, b"joe@x.test\0wrong horse\x00123\0")
    tap.ok(code == 1 and out == "", "wrong password: exit 1, program not run")
    tap.is_(checkpw(home, b"joe@x.test\0\x00123\0")[0], 1, "empty password: exit 1")
    tap.is_(checkpw(home, b"nobody@x.test\0right horse\0\0")[0], 1, "unknown user: exit 1")
    tap.is_(checkpw(home, b"locked@x.test\0!\0\0")[0], 1, "locked account ('!'): exit 1")
    tap.is_(checkpw(home, b"nopw@x.test\0\0\0")[0], 1, "account without a hash, empty password: exit 1")
    tap.is_(checkpw(home, b"nopw@x.test\0x\0\0")[0], 1, "account without a hash: exit 1")
    tap.is_(checkpw(home, b"joe@x.test\0right horse\0\0" + b"x" * 20)[0], 2, "trailing bytes: exit 2 (misuse)")
    tap.is_(checkpw(home, b"joe@x.test")[0], 2, "no NUL: exit 2")
    big = b"joe@x.test\0right horse\0" + b"1" * 600 + b"\0"
    code, out, err = checkpw(home, big)
    tap.ok(code == 2 and "more than 512 bytes" in err, "oversize input: exit 2, says so", err)
    code, out, err = checkpw(home, b"", fd3=False)
    tap.ok(code == 2 and "descriptor 3" in err, "missing fd 3: exit 2, says so", err)
    tap.is_(checkpw(home, b"joe@x.test\0right horse\0\0", prog=())[0], 2, "no program to run: exit 2")
    broken = tern.make_home({"me": "x.test"})
    code, out, err = checkpw(broken, b"joe@x.test\0right horse\0\0")
    tap.ok(code == 111 and out == "", "passwd.cdb missing: exit 111 (temporary)", err)

    # Any program that expects a checkpassword runs under it: exit codes pass through.
    code, out, err = checkpw(home, b"joe@x.test\0right horse\0\0", prog=("sh", "-c", "exit 7"))
    tap.is_(code, 7, "the program's exit status comes back")

    if os.getuid() != 0:
        tap.note("not root: setuid tests skipped")
        return
    # Installed setuid to the auth user (here: nobody), run by another user
    # (uid 1): it reads passwd.cdb that the caller cannot, and the program
    # it runs is back to the caller's uid. Set-id it reads only its compiled
    # home: a copy built for this one.
    bindir = tern.setid_build(home, ("tern-checkpassword",))
    tap.ok(bindir, "tern-checkpassword builds with this home compiled in")
    if not bindir:
        return
    d = tern.tmpdir()
    os.chmod(d, 0o755)
    cp = os.path.join(d, "tern-checkpassword")
    shutil.copy(os.path.join(bindir, "tern-checkpassword"), cp)
    os.chown(cp, 65534, 65534)
    os.chmod(cp, 0o4711)
    os.chmod(home, 0o755)
    os.chown(os.path.join(home, "passwd.cdb"), 65534, 65534)
    os.chmod(os.path.join(home, "passwd.cdb"), 0o600)
    pre = ["s6-applyuidgid", "-u", "1", "-g", "1", "-G", ""]
    r = subprocess.run(["sh", "-c", FD3, "sh"] + pre + ["cat", os.path.join(home, "passwd.cdb")],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    tap.ok(r.returncode != 0, "uid 1 cannot read passwd.cdb itself")
    prog = ["sh", "-c", 'echo "uid=$(id -u) euid=$(id -u) HOME=$HOME"']
    argv = ["sh", "-c", FD3, "sh"] + pre + [cp] + prog
    r = subprocess.run(argv, input=b"joe@x.test\0right horse\0\0", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, TERN_HOME=home), timeout=20)
    tap.ok(r.returncode == 0 and "uid=1 euid=1 HOME=%s/mail" % home in r.stdout.decode(),
           "setuid: login works, the program runs as the caller, not the auth user", r.stdout.decode() + r.stderr.decode())
    r = subprocess.run(argv, input=b"joe@x.test\0wrong\0\0", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, TERN_HOME=home), timeout=20)
    tap.is_(r.returncode, 1, "setuid: wrong password: exit 1")
    # A home the caller made (owned by uid 1) is not trusted by the setuid program.
    fake = tern.make_home({"me": "x.test"})
    adduser(fake, "joe@x.test", "forged")
    os.chmod(fake, 0o755)
    for root, dirs, files in os.walk(fake):
        for n in dirs + files:
            os.chown(os.path.join(root, n), 1, 1)
    os.chown(fake, 1, 1)
    r = subprocess.run(argv, input=b"joe@x.test\0forged\0\0", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, TERN_HOME=fake), timeout=20)
    tap.ok(r.returncode != 0 and "ignoring TERN_HOME" in r.stderr.decode(), "setuid: a caller-made TERN_HOME is ignored",
           r.stderr.decode())
    # Nor is a home that root made and nobody else may write (another
    # instance, say): the caller does not pick the table either.
    other = tern.make_home({"me": "x.test"})
    adduser(other, "joe@x.test", "other horse")
    os.chmod(other, 0o755)
    os.chown(os.path.join(other, "passwd.cdb"), 65534, 65534)
    r = subprocess.run(argv, input=b"joe@x.test\0other horse\0\0", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, TERN_HOME=other), timeout=20)
    tap.ok(r.returncode == 1 and "ignoring TERN_HOME" in r.stderr.decode(),
           "setuid: another instance's TERN_HOME (root's, not writable) is ignored: its password logs nobody in",
           r.stdout.decode() + r.stderr.decode())


tap.main(main)
