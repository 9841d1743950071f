#!/usr/bin/env python3
"""Finding the instance (docs/INTERNALS.md, "Where the instance lives").
Programs built for a home find it with no TERN_HOME set: the queue tools
list its queue, tern-smtpd greets with its name, tern-check checks it.
Without TERN_HOME and with nothing at the compiled home, each program fails
naming the directory it looked in; a control file that cannot be read is
named with its full path. tern-setup prints the one export line to use."""
import os
import re
import subprocess

import remotetest
import tap
import tern


def run(argv, env, stdin=b"", timeout=30, **kw):
    r = subprocess.run(argv, input=stdin, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, **kw)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def bare_env():
    e = dict(os.environ)
    e.pop("TERN_HOME", None)
    return e


def queue_one(home, token):
    env = b"Fsender@example.org\0Tdemo@tern.test\0\0"
    r, w = os.pipe()
    os.write(w, env)
    os.close(w)
    try:
        p = subprocess.run([tern.prog("tern-queue")], input=("Subject: %s\n\n%s\n" % (token, token)).encode(),
                           stdout=r, env=dict(os.environ, TERN_HOME=home), timeout=30)
    finally:
        os.close(r)
    return p.returncode


def compiled_home():
    """The home this build was made for: lib/control.c leaves 'tern-home:HOME' in each program."""
    with open(tern.prog("tern-qstat"), "rb") as f:
        m = re.search(rb"tern-home:([^\0]+)\0", f.read())
    return m.group(1).decode() if m else None


def test_setup(inst):
    code, out, err = run([tern.prog("tern-setup"), "-u", "-i", "127.0.0.1", inst], bare_env())
    tap.is_(code, 0, "tern-setup makes an instance")
    line = "export TERN_HOME=%s PATH=%s:$PATH" % (inst, tern.BIN)
    tap.like(out, "tern-setup: to use it from a shell: " + line, "and prints the one export line to use it")
    # the line works as printed: pasted into a shell, the tools find the instance
    code, out, err = run(["sh", "-c", line + "\nexec tern-qstat"], bare_env())
    tap.ok(code == 0 and "messages in queue: 0" in out, "pasted into a shell, tern-qstat finds the instance", err)


def test_compiled(inst):
    """Programs built with this instance as their compiled home (make HOMEDIR=...)."""
    built = tern.setid_build(inst, ("tern-qstat", "tern-qread", "tern-smtpd", "tern-check"))
    tap.ok(built, "tern-qstat, tern-qread, tern-smtpd and tern-check build for this home")
    if not built:
        return
    env = bare_env()
    tap.is_(queue_one(inst, "found-by-default"), 0, "a message queued in the instance")
    code, out, err = run([os.path.join(built, "tern-qstat")], env)
    tap.ok(code == 0 and "messages in queue: 1" in out, "tern-qstat without TERN_HOME counts it", out + err)
    code, out, err = run([os.path.join(built, "tern-qread")], env)
    tap.ok(code == 0 and "<sender@example.org>" in out and "demo@tern.test" in out,
           "tern-qread without TERN_HOME lists it", out + err)
    code, out, err = run([os.path.join(built, "tern-smtpd")], env, b"QUIT\r\n")
    tap.like(out, "220 mail.tern.test ESMTP", "tern-smtpd without TERN_HOME greets with the instance's name")
    code, out, err = run([os.path.join(built, "tern-check")], env)
    tap.ok(code == 0, "tern-check without arguments or TERN_HOME checks the compiled home", err)
    code, out, err = run([os.path.join(built, "tern-check")], dict(env, TERN_HOME=inst + "-none"))
    tap.ok(code == 100 and (inst + "-none") in err, "tern-check follows TERN_HOME when it is set", err)


def test_nowhere():
    """This build's compiled home holds no instance: each program says where it looked."""
    home = compiled_home()
    if not home or os.path.exists(home):
        tap.note("the compiled home %s exists here: the checks of a missing instance are skipped" % home)
        return
    env = bare_env()
    for name in ("tern-qread", "tern-qstat", "tern-qflush"):
        code, out, err = run([tern.prog(name)], env)
        tap.ok(code == 111 and home + "/queue" in err, "%s fails naming %s/queue" % (name, home), err)
    code, out, err = run([tern.prog("tern-qsuper"), "-d", "ALL"], env)
    tap.ok(code == 111 and home + "/queue" in err, "tern-qsuper too", err)
    checks = (
        ("tern-smtpd", [], home + "/control/me"),
        ("tern-send", [], home + "/queue"),
        ("tern-newusers", [], home + "/users.cdb"),
        ("tern-check", [], home + " is not a directory"),
        ("tern-queued", [], home + "/queued"),
    )
    for name, args, want in checks:
        code, out, err = run([tern.prog(name)] + args, env, timeout=10)
        tap.ok(code != 0 and want in err, "%s fails naming %s" % (name, want), err)
    code, out, err = run([tern.prog("tern-logsum")], env)
    tap.ok(code == 111 and home + "/log" in err, "tern-logsum names %s/log" % home, err)


def test_unreadable(inst):
    """A control file that cannot be read (a directory in its place): its full path in the error."""
    env = dict(os.environ, TERN_HOME=inst)
    c = os.path.join(inst, "control")

    def broken(name):
        path = os.path.join(c, name)
        if os.path.exists(path):
            os.rename(path, path + ".saved")
        os.mkdir(path)
        return path

    def mend(name):
        path = os.path.join(c, name)
        os.rmdir(path)
        if os.path.exists(path + ".saved"):
            os.rename(path + ".saved", path)

    path = broken("me")
    code, out, err = run([tern.prog("tern-smtpd")], env, b"QUIT\r\n")
    tap.ok(code == 111 and "unable to read %s: Is a directory" % path in err, "tern-smtpd names control/me in full", err)
    tap.like(out, "421 4.3.5", "and tells the client to come back later")
    code, out, err = run([tern.prog("tern-send")], env, timeout=10)
    tap.ok(code == 111 and c in err, "tern-send names the control directory in full", err)
    mend("me")

    path = broken("databytes")
    code, out, err = run([tern.prog("tern-queued"), "-s", os.path.join(inst, "queued", "t.sock")], env, timeout=10)
    tap.ok(code == 111 and "unable to read %s" % path in err, "tern-queued names control/databytes in full", err)
    code, out, err = run([tern.prog("tern-inject"), "demo@tern.test"], env, b"Subject: x\n\nx\n")
    tap.ok(code == 111 and "unable to read %s" % path in err, "tern-inject names control/databytes in full", err)
    mend("databytes")

    path = broken("tlsciphers")
    code, out, err = run([tern.prog("tern-tlsd"), "-k", os.path.join(inst, "tls", "key.pem"),
                          "-c", os.path.join(inst, "tls", "cert.pem"), "true"], env, timeout=10)
    tap.ok(code == 111 and "unable to read %s" % path in err, "tern-tlsd names control/tlsciphers in full", err)
    mend("tlsciphers")

    path = broken("smtproutes")
    recs, err, code = remotetest.run(inst, "far.test", "a@tern.test", ["b@far.test"], b"Subject: x\n\nx\n")
    tap.ok("unable to read %s" % path in err, "tern-remote logs control/smtproutes in full", err)
    tap.ok(recs and recs[0][0] == "Z" and "control/smtproutes" in recs[0][1] and inst not in recs[0][1],
           "and defers, its report (which a bounce may quote) naming it within the instance only", recs)
    mend("smtproutes")

    path = broken("morercpthosts")
    code, out, err = run([tern.prog("tern-newmrh")], env)
    tap.ok(code == 111 and "unable to read %s" % path in err, "tern-newmrh names control/morercpthosts in full", err)
    mend("morercpthosts")

    if os.path.exists(tern.prog("tern-dkimsign")):
        path = broken("dkimdomains")
        r, w = os.pipe()
        os.close(w)
        try:
            code, out, err = run_fd1([tern.prog("tern-dkimsign")], dict(env, RELAYCLIENT=""), r)
        finally:
            os.close(r)
        tap.ok(code != 0 and "unable to read %s" % path in err, "tern-dkimsign names control/dkimdomains in full", err)
        mend("dkimdomains")


def run_fd1(argv, env, fd1):
    """argv with the message on fd 0 and fd1 (the envelope) as fd 1; (code, '', stderr)."""
    p = subprocess.run(argv, input=b"Subject: x\n\nx\n", stdout=fd1, stderr=subprocess.PIPE, env=env, timeout=30)
    return p.returncode, "", p.stderr.decode(errors="replace")


def main():
    base = tern.tmpdir("tern-home-t-")
    inst = os.path.join(base, "tern")
    test_setup(inst)
    test_nowhere()
    test_unreadable(inst)
    test_compiled(inst)


tap.main(main)
