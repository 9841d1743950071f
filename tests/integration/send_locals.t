#!/usr/bin/env python3
"""A change to locals or virtualdomains takes effect for tern-smtpd and
tern-send together (issue 15): a virtual domain added while both run is
accepted by tern-smtpd and delivered locally at once, without SIGHUP; a
message that waited for it as a remote one is delivered locally too."""
import os
import smtplib
import subprocess

import tap
import tern
import deliver


def append(home, name, line):
    with open(os.path.join(home, "control", name), "a") as f:
        f.write(line + "\n")


def main():
    dead = tern.free_port()   # nothing listens: remote delivery is deferred
    home = deliver.instance(users=["alice@ex.test"],
                            control={"rcpthosts": ["ex.test"], "smtproutes": [":[127.0.0.1]:%d" % dead],
                                     "virtualdomains": ["# none yet"]})
    env = {"TERN_HOME": home, "TERN_SMTP_PORT": str(dead)}
    p, log = deliver.start_send(home, {"TERN_SMTP_PORT": str(dead)})
    sp, port, slog = tern.tcpserver([tern.prog("tern-smtpd")], env=env)

    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("x.test")
    s.mail("a@x.test")
    tap.is_(s.rcpt("carol@new.test")[0], 553, "before: new.test is not ours (relaying denied)")
    s.quit()

    # a message for the domain queued before the change (by a trusted path)
    tap.is_(deliver.queue(home, b"Subject: early\n\nearly\n", "a@x.test", ["dave@new.test"]), 0, "queued for dave@new.test")
    tap.ok(tern.wait_for(lambda: log.has("to remote dave@new.test") and log.has("status=deferred"), 30),
           "routed remote and deferred while new.test is not local", log.text()[-2000:])

    # the admin adds the virtual domain: users, virtualdomains, rcpthosts
    for u in ("carol", "dave"):
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(home, "maildirs", u, sub), exist_ok=True)
    with open(os.path.join(home, "users"), "a") as f:
        f.write("carol@new.test::maildirs/carol/\ndave@new.test::maildirs/dave/\n")
    subprocess.run([tern.prog("tern-newusers")], env=dict(os.environ, TERN_HOME=home), check=True)
    append(home, "virtualdomains", "new.test:")
    append(home, "rcpthosts", "new.test")

    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    refused = s.sendmail("a@x.test", ["carol@new.test"], "Subject: late\r\n\r\nlate\r\n")
    s.quit()
    tap.is_(refused, {}, "after: tern-smtpd accepts carol@new.test")
    tap.ok(deliver.wait_maildir(home, "carol", 1, 30), "tern-send delivers it locally at once (no SIGHUP)", log.text()[-3000:])
    tap.ok(log.has("to local carol@new.test") and not log.has("to remote carol@new.test"),
           "routed local, never remote", log.text()[-3000:])
    tap.ok(log.has("local domains read again"), "tern-send says it read the local domains again", log.text()[-3000:])
    tap.ok(deliver.wait_maildir(home, "dave", 1, 30), "the deferred message for dave@new.test is delivered locally at its retry",
           log.text()[-3000:])
    tap.ok(not log.has("status=bounced"), "nothing bounced", log.text()[-3000:])

    # and back: the domain removed, a new message goes remote again
    with open(os.path.join(home, "control", "virtualdomains"), "w") as f:
        f.write("")
    tap.is_(deliver.queue(home, b"Subject: gone\n\ngone\n", "a@x.test", ["carol@new.test"]), 0, "queued after removal")
    tap.ok(tern.wait_for(lambda: log.has("to remote carol@new.test"), 30), "routed remote once the domain is gone",
           log.text()[-2000:])
    tern.stop(sp)
    tern.stop(p)


tap.main(main)
