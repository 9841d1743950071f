#!/usr/bin/env python3
"""tern-smtpd validates recipients of local domains at RCPT time from
users.cdb / aliases.cdb (550 5.1.1), and relays rcpthosts domains that are
not local (secondary MX)."""
import os
import subprocess

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log


def main():
    home, port, log = smtpd_server(control={"rcpthosts": ["tern.test", "backup.test"], "locals": ["tern.test"]})
    with open(os.path.join(home, "users"), "w") as f:
        f.write("alice@tern.test::maildirs/alice/\n")
    with open(os.path.join(home, "aliases"), "w") as f:
        f.write("sales@tern.test: alice@tern.test, someone@far.test\n")
    subprocess.run([tern.prog("tern-newusers")], env=dict(os.environ, TERN_HOME=home), check=True)
    r = Raw(port)
    r.begin("client.test", "x@client.test")
    cases = [
        ("alice@tern.test", 250, "a user"),
        ("ALICE@Tern.Test", 250, "a user in other case"),
        ("alice+news@tern.test", 250, "a user with +detail"),
        ("sales@tern.test", 250, "an alias"),
        ("postmaster@tern.test", 250, "postmaster is always accepted"),
        ("anyone@backup.test", 250, "rcpthosts domain that is not local: relayed (secondary MX)"),
    ]
    for addr, want, name in cases:
        tap.is_(r.cmd("RCPT TO:<%s>" % addr)[0], want, "%s: %s" % (name, addr))
    code, text = r.cmd("RCPT TO:<bob@tern.test>")
    tap.is_(code, 550, "unknown user of a local domain refused with 550")
    tap.like(text, b"5.1.1 No such user here", "with 5.1.1 and a sentence")
    tap.is_(r.cmd("RCPT TO:<sales2@tern.test>")[0], 550, "an unknown alias-like name refused")
    r.cmd("DATA")
    r.send("Subject: x\r\n\r\nx\r\n.\r\n")
    tap.is_(r.reply()[0], 250, "message accepted")
    q = tern.queued_messages(home)
    tap.is_(q[0][3] if q else None, ["alice@tern.test", "ALICE@tern.test", "alice+news@tern.test", "sales@tern.test",
                                     "postmaster@tern.test", "anyone@backup.test"],
            "only the accepted recipients queued")
    tap.like(read_log(log, "unknown user"), "unknown user", "refusal logged with its reason")

    # without the tables (not built yet) local recipients are accepted; tern-local defers them
    os.unlink(os.path.join(home, "users.cdb"))
    r = Raw(port)
    r.begin("client.test", "x@client.test")
    tap.is_(r.cmd("RCPT TO:<bob@tern.test>")[0], 250, "no users.cdb: accepted (not refused, not bounced)")

    # a users.cdb that is there but cannot be read (a directory, as a
    # stand-in for EIO or EACCES, which root does not get): try again later
    os.mkdir(os.path.join(home, "users.cdb"))
    r = Raw(port)
    r.begin("client.test", "x@client.test")
    code, text = r.cmd("RCPT TO:<bob@tern.test>")
    tap.ok(code == 451 and b"4.3.0 Cannot read the user tables" in text, "unreadable users.cdb: 451 4.3.0",
           (code, text))


tap.main(main)
