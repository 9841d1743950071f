#!/usr/bin/env python3
"""tern-inject and its sendmail face: -t, -i, -f, -F, added headers, TERNQUEUE, mailq."""
import os
import subprocess

import tap
import tern
import deliver


def inject(home, args, data, name="tern-inject", extra=None):
    b = tern.tmpdir("tern-sm-")
    os.symlink(tern.prog("tern-inject"), os.path.join(b, name))
    r = subprocess.run([os.path.join(b, name)] + args, input=data, capture_output=True,
                       env=deliver.env(home, extra), timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def main():
    home = deliver.instance(users=["alice@ex.test", "bob@ex.test", "carol@ex.test", "pm@ex.test"],
                            control={"defaulthost": "ex.test"})
    p, log = deliver.start_send(home)

    script = tern.tmpdir("tern-script-")
    sm = os.path.join(script, "sendmail")
    os.symlink(tern.prog("tern-inject"), sm)
    with open(os.path.join(script, "cron.sh"), "w") as f:
        f.write("#!/bin/sh\nprintf 'To: Alice <alice@ex.test>\\r\\nCc: \"Doe, J\" <bob@ex.test>, (c) carol\\r\\n"
                "Bcc: pm@ex.test\\r\\nSubject: nightly\\r\\n\\r\\nall good\\r\\n.\\r\\nstill body\\r\\n' | %s -t -i\n" % sm)
    os.chmod(os.path.join(script, "cron.sh"), 0o755)
    r = subprocess.run([os.path.join(script, "cron.sh")], env=deliver.env(home, {"LOGNAME": "cron"}),
                       capture_output=True, timeout=30)
    tap.is_(r.returncode, 0, "sendmail -t from a script exits 0", )
    ok = all(deliver.wait_maildir(home, u, 1) for u in ("alice", "bob", "carol", "pm"))
    tap.ok(ok, "To, Cc (qualified with defaulthost) and Bcc recipients all delivered", r.stderr)
    m = (deliver.maildir_new(home, "alice") or [b""])[0]
    tap.ok(b"\nBcc:" not in m and b"pm@ex.test" not in m, "Bcc header removed")
    tap.like(m, b"\nDate: ", "Date added")
    tap.like(m, b"\nMessage-ID: <", "Message-ID added")
    tap.like(m, b"\nFrom: cron@ex.test\n", "From added from LOGNAME")
    tap.like(m, b"\n\nall good\n.\nstill body\n", "CRLF turned into LF; a lone dot does not end the body")
    tap.like(m, b"Return-Path: <cron@ex.test>", "envelope sender")

    code, _, err = inject(home, ["-f", "robot@ex.test", "-F", 'Joe "J" Bot', "alice"],
                          b"From: keep@ex.test\nSubject: two\n\nx\n", name="sendmail")
    tap.is_(code, 0, "sendmail -f -F with a command-line recipient")
    tap.ok(deliver.wait_maildir(home, "alice", 2), "delivered")
    m = deliver.maildir_new(home, "alice")[-1]
    tap.like(m, b"Return-Path: <robot@ex.test>", "-f sets the envelope sender")
    tap.like(m, b"\nFrom: keep@ex.test\n", "an existing From is kept")
    code, _, _ = inject(home, ["-f", "robot@ex.test", "-F", 'Joe "J" Bot', "bob@ex.test"], b"Subject: three\n\nx\n")
    tap.ok(deliver.wait_maildir(home, "bob", 2), "delivered")
    tap.like(deliver.maildir_new(home, "bob")[-1], b'From: "Joe \\"J\\" Bot" <robot@ex.test>', "-F gives a quoted full name")

    code, _, err = inject(home, [], b"Subject: none\n\nx\n")
    tap.is_(code, 100, "no recipients: exit 100")
    tap.like(err, "tern-inject: fatal: no recipients", "and says so")
    code, _, err = inject(home, ["-x"], b"")
    tap.is_(code, 100, "unknown option: exit 100")
    code, _, err = inject(home, ["bad\x01addr"], b"x\n")
    tap.is_(code, 100, "control character in an address refused")

    with open(os.path.join(home, "control", "databytes"), "w") as f:
        f.write("1000\n")
    code, _, err = inject(home, ["alice@ex.test"], b"Subject: big\n\n" + b"x" * 2000 + b"\n")
    tap.is_(code, 100, "a message over control/databytes is refused with 100")
    tap.like(err, "larger than control/databytes", "and says why")
    code, _, err = inject(home, ["alice@ex.test"], b"Subject: small\n\nok\n")
    tap.is_(code, 0, "a message under the limit is queued")
    os.unlink(os.path.join(home, "control", "databytes"))

    # TERNQUEUE names the queue program
    rec = tern.tmpdir("tern-q-")
    q = os.path.join(rec, "q.sh")
    with open(q, "w") as f:
        f.write("#!/bin/sh\ncat > %s/msg\ncat <&1 > %s/env\nexit 0\n" % (rec, rec))
    os.chmod(q, 0o755)
    code, _, err = inject(home, ["-f", "", "x@far.test"], b"body only, no header\n", extra={"TERNQUEUE": q})
    tap.is_(code, 0, "TERNQUEUE program used")
    with open(os.path.join(rec, "env"), "rb") as f:
        tap.is_(f.read(), b"F\0Tx@far.test\0\0", "envelope with the null sender")
    with open(os.path.join(rec, "msg"), "rb") as f:
        body = f.read()
    tap.ok(body.endswith(b"\n\nbody only, no header\n"), "headerless input becomes the body", body)
    with open(q, "w") as f:
        f.write("#!/bin/sh\ncat >/dev/null\nexit 31\n")
    code, _, err = inject(home, ["x@far.test"], b"x\n", extra={"TERNQUEUE": q})
    tap.is_(code, 100, "permanent queue refusal: exit 100")
    with open(q, "w") as f:
        f.write("#!/bin/sh\ncat >/dev/null\nexit 53\n")
    code, _, err = inject(home, ["x@far.test"], b"x\n", extra={"TERNQUEUE": q})
    tap.is_(code, 111, "temporary queue failure: exit 111")
    tap.like(err, "disk full", "and says why")

    tap.ok(deliver.wait_queue_empty(home), "queue empty")
    code, out, _ = inject(home, [], b"", name="mailq")
    tap.is_((code, out), (0, "Mail queue is empty\n"), "mailq runs tern-qread (empty queue)")


tap.main(main)
