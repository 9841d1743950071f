#!/usr/bin/env python3
"""tern-conf, the configuration view (issue 15): every control file with its
effective value, default and source (file, default, env); -n, -d, names;
secrets never shown; a warning for each file in control/ that no program
reads (a typo, a qmail file tern ignores), which tern-check repeats."""
import os
import subprocess

import tap
import tern


def conf(home, *args, env=None):
    e = dict(os.environ)
    e.pop("TERN_HOME", None)
    e.pop("DATABYTES", None)
    e.update(env or {})
    r = subprocess.run([tern.prog("tern-conf")] + list(args), capture_output=True, text=True, env=e, timeout=120)
    return r.returncode, r.stdout, r.stderr


def entry(out, name):
    lines = out.split("\n")
    for i, l in enumerate(lines):
        if l.startswith(name + " = "):
            return l[len(name) + 3:], lines[i + 1] if i + 1 < len(lines) else ""
    return None, None


def main():
    home = tern.make_home({"me": "mail.ex.test", "rcpthosts": ["ex.test", "# comment", "", "mail.ex.test"],
                           "timeoutsmtpd": "600", "smtpgreeting": "", "smtpauth": "[192.0.2.1]:user:secret-pw",
                           "rcpthost": "typo.test", "percenthack": "", "badmailfrom": ["@junk.test"]})
    code, out, err = conf(home, "-c", home)
    tap.is_(code, 0, "tern-conf -c HOME exits 0")
    tap.is_(entry(out, "timeoutsmtpd"), ("600", "\t# from: file; default: 1200; read by: tern-smtpd; seconds per read or write"),
            "a number from its file, with its default and reader")
    v, why = entry(out, "maxrcpt")
    tap.ok(v == "100" and "from: default; default: 100" in why, "a missing file: the default", (v, why))
    v, why = entry(out, "rcpthosts")
    tap.ok(v == "ex.test mail.ex.test" and "from: file" in why, "a list: comments and blanks left out", v)
    v, why = entry(out, "smtpgreeting")
    tap.ok(v == "mail.ex.test" and "default (the file is empty)" in why and "default: as me" in why,
           "an empty file: the default, which is me's value", (v, why))
    v, why = entry(out, "helohost")
    tap.is_(v, "mail.ex.test", "helohost defaults to me")
    v, why = entry(out, "defaulthost")
    tap.ok(v == "mail.ex.test" and "as defaultdomain" in why, "defaulthost: as defaultdomain, which is as me", (v, why))
    v, why = entry(out, "smtpauth")
    tap.ok(v is not None and "not shown" in v and "secret-pw" not in out, "a secret is counted, never shown", v)
    v, why = entry(out, "badmailfrom")
    tap.ok(v == "@junk.test" and "tern-smtpd" in why, "badmailfrom is a control file tern-smtpd reads", (v, why))
    tap.like(err, "control/rcpthost: no program reads this file", "an unknown file is flagged (a typo of rcpthosts)")
    tap.like(err, "control/percenthack: a qmail file that tern does not read", "a qmail file tern ignores is named as such")
    tap.ok("rcpthosts:" not in err and "timeoutsmtpd" not in err, "known files are not flagged", err)

    code, out, _ = conf(home, env={"TERN_HOME": home, "DATABYTES": "12345"})
    v, why = entry(out, "databytes")
    tap.ok(code == 0 and v == "12345" and "from: env DATABYTES" in why, "TERN_HOME is the default instance; env is a source", (v, why))

    code, out, _ = conf(home, "-n", "-c", home)
    names = [l.split(" = ")[0] for l in out.split("\n") if " = " in l]
    tap.ok("timeoutsmtpd" in names and "rcpthosts" in names and "maxrcpt" not in names and "smtpgreeting" not in names,
           "-n: only what differs from the defaults", names)
    code, out, _ = conf(home, "-d", "-c", home)
    tap.ok("maxrcpt = 100\n" in out and "timeoutsmtpd = 1200\n" in out and "smtpgreeting = (as me)\n" in out,
           "-d: the defaults", out[:400])
    code, out, err = conf(home, "-c", home, "me", "databytes")
    tap.ok(code == 0 and [l.split(" = ")[0] for l in out.split("\n") if " = " in l] == ["me", "databytes"] and not err,
           "names: only those, no warnings", (out, err))
    code, out, err = conf(home, "-c", home, "rcpthost")
    tap.ok(code == 100 and "unknown control file: rcpthost" in err, "an unknown name is refused (100)", err)
    code, out, _ = conf(home, "-u", "-c", home)
    tap.is_(sorted(out.split()), ["percenthack", "rcpthost"], "-u: the unknown names, for scripts")
    code, out, err = conf(home, "-c", os.path.join(home, "nowhere"))
    tap.ok(code == 111 and "nowhere/control" in err, "no instance: 111, naming the directory", err)
    # a name with regex characters is not mistaken for a known one
    open(os.path.join(home, "control", "rcpthost."), "w").close()
    code, out, _ = conf(home, "-u", "-c", home)
    tap.ok("rcpthost." in out.split(), "'rcpthost.' is unknown too (names compared as text)", out)

    r = subprocess.run([tern.prog("tern-check"), home], capture_output=True, text=True, timeout=120)
    tap.like(r.stderr, "warning: %s: control/rcpthost is read by no program" % home, "tern-check warns about it too")
    tap.ok("fatal" not in r.stderr or "control/rcpthost" not in [l for l in r.stderr.split("\n") if "fatal" in l],
           "a warning, not a refusal", r.stderr)


tap.main(main)
