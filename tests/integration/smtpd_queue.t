#!/usr/bin/env python3
"""tern-smtpd and the queue program: 250 only after it exits 0; its exit
codes become 4xx/5xx; $TERNQUEUE; a full disk gives 451 and no half file."""
import os

import tap
import tern
from smtpraw import smtpd_server, read_log, send_one


def send(port, body=b"Subject: q\r\n\r\nbody\r\n"):
    return send_one(port, body)


def script(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text + "\n")
    os.chmod(path, 0o755)
    return path


def exit_codes():
    d = tern.tmpdir()
    for code, want, enh in [(31, 554, b"5.3.0"), (11, 554, b"5.1.3"), (71, 451, b"4.3.0"),
                            (53, 451, b"4.3.1"), (91, 554, b"5.5.0"), (99, 451, b"4.3.0")]:
        q = script(d, "q%d" % code, "cat >/dev/null; cat <&1 >/dev/null 2>&1; exit %d" % code)
        home, port, log = smtpd_server(env={"TERNQUEUE": q})
        got, text = send(port)
        tap.is_((got, text[:5]), (want, enh), "queue program exit %d: %d %s" % (code, want, enh.decode()))
    q = script(d, "killed", "cat >/dev/null; kill -9 $$")
    home, port, log = smtpd_server(env={"TERNQUEUE": q})
    tap.is_(send(port)[0], 451, "queue program killed by a signal: 451")
    home, port, log = smtpd_server(env={"TERNQUEUE": os.path.join(d, "does-not-exist")})
    got, text = send(port)
    tap.is_(got, 451, "queue program missing: 451")
    tap.like(read_log(log, "result=451"), "result=451", "logged")


def filter_chain():
    d = tern.tmpdir()
    q = script(d, "filter", '{ echo "X-Filtered: yes"; cat; } > "%s/msg" && exec "%s" < "%s/msg"'
               % (d, tern.prog("tern-queue"), d))
    home, port, log = smtpd_server(env={"TERNQUEUE": q})
    code, text = send(port)
    tap.is_(code, 250, "$TERNQUEUE filter that runs tern-queue: 250")
    m = tern.queued_messages(home)
    tap.ok(m and m[0][1].startswith(b"X-Filtered: yes\nReceived: ") and m[0][3] == ["u@tern.test"],
           "the filter's output is what is queued, envelope passed through")
    tap.is_(m[0][0] if m else None, text.split()[-1].decode(), "the proposed ID survives the filter")


def disk_full():
    home, port, log = smtpd_server()
    q = os.path.join(home, "queue")
    if not tern.mount_tmpfs(q, "64k"):
        tap.ok(True, "# SKIP disk-full test needs root to mount a tmpfs")
        return
    tern.make_queue(home)
    code, text = send(port, b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 200)
    tap.is_(code, 451, "disk full: 451 after DATA, not 250")
    tap.like(text, b"disk full", "the reply says disk full")
    tap.is_(tern.queued_messages(home), [], "nothing in mess/")
    tap.is_(os.listdir(os.path.join(q, "tmp")), [], "nothing half-written in tmp/")
    tap.is_(send(port)[0], 250, "a small message fits afterwards")


def main():
    exit_codes()
    filter_chain()
    disk_full()


tap.main(main)
