#!/usr/bin/env python3
"""make install DESTDIR=...: stages the programs under DESTDIR/HOME/bin and
the man pages under DESTDIR/MANDIR/manN, where man(1) finds them, and
nothing else (no users, no instance), as any user."""
import os
import stat
import subprocess

import tap
import tern


def test_man(dest):
    mandir = dest + "/usr/local/share/man"
    pages = sorted(f for f in os.listdir(os.path.join(tern.TOP, "docs")) if f[-2:-1] == "." and f[-1] in "12345678")
    staged = sorted(f for d in os.listdir(mandir) for f in os.listdir(os.path.join(mandir, d)))
    tap.is_(staged, pages, "every man page is staged under DESTDIR/usr/local/share/man (the default MANDIR)")
    tap.ok(all(os.path.exists(os.path.join(mandir, "man" + f[-1], f)) for f in pages), "each in the manN/ of its section")
    tap.ok(os.path.exists(os.path.join(mandir, "man8", "tern-smtpd.8")), "tern-smtpd.8 in man8/")
    r = subprocess.run(["manpath"], capture_output=True, text=True)
    tap.ok("/usr/local/share/man" in r.stdout.split(":"), "man(1) searches /usr/local/share/man on this system", r.stdout)
    r = subprocess.run(["man", "-M", mandir, "-w", "tern-smtpd"], capture_output=True, text=True)
    tap.is_(r.stdout.strip(), os.path.join(mandir, "man8", "tern-smtpd.8"), "man -w tern-smtpd finds the staged page")
    r = subprocess.run(["man", "-M", mandir, "8", "tern-smtpd"], capture_output=True, text=True,
                       env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
    tap.ok(r.returncode == 0 and "tern-smtpd" in r.stdout and "SYNOPSIS" in r.stdout, "and man renders it", r.stderr)
    r = subprocess.run([os.path.join(tern.TOP, "setup", "make-install"), tern.BIN, "/opt/tern-test-home", dest + "2"],
                       env=dict(os.environ, MANDIR=""), capture_output=True, text=True, timeout=120)
    tap.ok(r.returncode == 0 and not os.path.exists(dest + "2/usr"), "MANDIR set empty: no man pages", r.stderr)


def main():
    dest = tern.tmpdir("tern-stage-")
    home = "/opt/tern-test-home"
    env = dict(os.environ)
    env.pop("MANDIR", None)  # the default, as make install passes it
    r = subprocess.run([os.path.join(tern.TOP, "setup", "make-install"), tern.BIN, home, dest],
                       env=env, capture_output=True, text=True, timeout=120)
    tap.is_(r.returncode, 0, "make-install with a DESTDIR succeeds")
    tap.like(r.stdout, "tern-setup -r %s" % home, "and says what is left to do on the target")
    bindir = dest + home + "/bin"
    built = sorted(f for f in os.listdir(tern.BIN) if f.startswith("tern-"))
    staged = sorted(f for f in os.listdir(bindir) if f.startswith("tern-"))
    tap.is_(staged, built, "every program is staged")
    modes = {f: stat.S_IMODE(os.stat(os.path.join(bindir, f)).st_mode) for f in staged}
    tap.is_({f: m for f, m in modes.items() if m != 0o755}, {}, "all mode 755, none setuid (no users to give them to)")
    if "tern-inject" in built:
        tap.is_(os.readlink(os.path.join(bindir, "sendmail")), "tern-inject", "sendmail is tern-inject")
    tap.is_(sorted(os.listdir(dest + home)), ["bin"], "and nothing else: no instance")
    test_man(dest)
    tap.ok(not os.path.exists(home), "nothing is written outside DESTDIR")
    tap.ok("created user" not in r.stdout, "no user is created")


tap.main(main)
