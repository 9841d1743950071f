#!/usr/bin/env python3
"""make install DESTDIR=...: stages the programs under DESTDIR/HOME/bin and
nothing else (no users, no instance), as any user."""
import os
import stat
import subprocess

import tap
import tern


def main():
    dest = tern.tmpdir("tern-stage-")
    home = "/opt/tern-test-home"
    r = subprocess.run([os.path.join(tern.TOP, "setup", "make-install"), tern.BIN, home, dest],
                       capture_output=True, text=True, timeout=120)
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
    tap.ok(not os.path.exists(home), "nothing is written outside DESTDIR")
    tap.ok("created user" not in r.stdout, "no user is created")


tap.main(main)
