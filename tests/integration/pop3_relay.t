#!/usr/bin/env python3
"""POP-before-SMTP end to end: a POP3 login from 127.0.0.5 (tern-pop3d ...
tern-relayallow) lets 127.0.0.5 relay over SMTP (tern-relaycheck tern-smtpd)
until the record expires; other addresses and failed logins get nothing,
and neither does a good login whose session then fails (Maildir missing):
the grant is made by tern-pop3d -m after its +OK (issue 20)."""
import shutil
import os
import poplib
import smtplib
import time

import tap
from popfrom import POP3From
import tern

USER = "alice@tern.test"


def add_user(home):
    """alice@tern.test, whom tern-checkpassword and tern-pop3d -m find in the tables."""
    return tern.add_user(home, USER, "secret")

# Stands in for tern-queue: keeps the envelope (fd 1) of each message.
QUEUE = r'''#!/usr/bin/env python3
import os, sys
msg = sys.stdin.buffer.read()
env = os.fdopen(1, "rb").read()
qdir = QDIR
n = len(os.listdir(qdir))
with open(os.path.join(qdir, "%d" % n), "wb") as f:
    f.write(env)
'''


def script(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def pop_login(src, port, pw, host="127.0.0.1", user=USER):
    p = POP3From(src, host, port)
    p.user(user)
    try:
        p.pass_(pw)
        p.quit()
        return True
    except poplib.error_proto:
        p.close()
        return False


def relay(src, port, rcpt="bob@example.org", host="127.0.0.1"):
    """(code, text) of RCPT TO a foreign domain, and the DATA reply when accepted."""
    s = smtplib.SMTP(host, port, timeout=20, source_address=(src, 0))
    s.ehlo("client.example")
    s.mail("alice@tern.test")
    code, text = s.rcpt(rcpt)
    if code == 250:
        code2, _ = s.data(b"Subject: relayed\r\n\r\nhello\r\n")
        text += b" / DATA %d" % code2
    s.quit()
    return code, text


def main():
    for p in ("tern-smtpd", "tern-tcpserver", "tern-checkpassword"):
        if not os.path.exists(tern.prog(p)):
            tap.skip_all("%s not built yet" % p)
    tmp = tern.tmpdir()
    qdir = os.path.join(tmp, "queued")
    os.mkdir(qdir)
    home = tern.make_home(control={"rcpthosts": "tern.test", "locals": "tern.test"})
    relaydir = os.path.join(home, "relay")
    os.mkdir(relaydir)
    add_user(home)
    queue = script(tmp, "queue", QUEUE.replace("QDIR", repr(qdir)))
    env = {"TERN_HOME": home, "TERNQUEUE": queue}

    pop, pport, plog = tern.tcpserver([tern.prog("tern-pop3d"), "-P", "-d", "0", tern.prog("tern-checkpassword"), tern.prog("tern-relayallow"),
                                       tern.prog("tern-pop3d"), "-m"], env=env)
    smtp, sport, slog = tern.tcpserver([tern.prog("tern-relaycheck"), tern.prog("tern-smtpd")],
                                       env=env)

    code, text = relay("127.0.0.5", sport)
    tap.is_(code, 553, "before any login, 127.0.0.5 may not relay")
    tap.ok(pop_login("127.0.0.5", pport, "secret"), "alice logs in over POP3 from 127.0.0.5")
    tap.ok(os.path.isfile(os.path.join(relaydir, "127.0.0.5")), "tern-relayallow recorded 127.0.0.5")
    code, text = relay("127.0.0.5", sport)
    tap.is_(code, 250, "after the login, RCPT to a foreign domain from 127.0.0.5 is accepted")
    tap.like(text, b"DATA 250", "and the message is queued")
    queued = [open(os.path.join(qdir, f), "rb").read() for f in sorted(os.listdir(qdir))]
    tap.ok(len(queued) == 1 and b"Tbob@example.org\0" in queued[0], "the queue got the foreign recipient", queued)

    code, text = relay("127.0.0.6", sport)
    tap.is_(code, 553, "127.0.0.6, which did not log in, is refused")
    tap.like(text, b"5.7.1", "with an enhanced status code")

    tap.ok(not pop_login("127.0.0.7", pport, "wrong"), "a failed login from 127.0.0.7")
    tap.ok(not os.path.exists(os.path.join(relaydir, "127.0.0.7")), "a failed login records nothing")
    code, text = relay("127.0.0.7", sport)
    tap.is_(code, 553, "and 127.0.0.7 may not relay")

    code, text = relay("127.0.0.5", sport, rcpt=USER)
    tap.is_(code, 250, "local recipients are accepted as ever")

    shutil.rmtree(tern.add_user(home, "bob@tern.test", "bobpw"))
    tap.ok(not pop_login("127.0.0.8", pport, "bobpw", user="bob@tern.test"),
           "bob's password is right but his Maildir is gone: the POP3 session fails")
    tap.ok(not os.path.exists(os.path.join(relaydir, "127.0.0.8")),
           "a login whose session failed records nothing")
    code, text = relay("127.0.0.8", sport)
    tap.is_(code, 553, "and 127.0.0.8 may not relay")

    rec = os.path.join(relaydir, "127.0.0.5")
    old = time.time() - 181 * 60
    os.utime(rec, (old, old))
    code, text = relay("127.0.0.5", sport)
    tap.is_(code, 553, "after the expiry (180 minutes), 127.0.0.5 is refused again")
    tap.ok(not os.path.exists(rec), "the stale record is removed")

    tap.ok(pop_login("127.0.0.5", pport, "secret"), "a new login")
    code, text = relay("127.0.0.5", sport)
    tap.is_(code, 250, "relaying again")
    tern.stop(smtp)
    with open(slog, "rb") as f:
        tap.like(f.read(), b"relay granted to 127.0.0.5", "tern-relaycheck logged the grant")
    smtp, sport, slog = tern.tcpserver([tern.prog("tern-relaycheck"), tern.prog("tern-smtpd")],
                                       env=dict(env, RELAY_EXPIRY="0"))
    code, text = relay("127.0.0.5", sport)
    tap.is_(code, 553, "RELAY_EXPIRY=0 on the SMTP side turns it off")
    tern.stop(smtp)
    tern.stop(pop)
    with open(plog, "rb") as f:
        tap.like(f.read(), b"relay allowed for 127.0.0.5", "tern-relayallow logged the record")

    # Only tern-relayallow, after a good login, may ask for the grant: a
    # TERN_RELAYALLOW in the POP3 service's own environment is dropped.
    pop, pport, plog = tern.tcpserver([tern.prog("tern-pop3d"), "-P", "-d", "0", tern.prog("tern-checkpassword"),
                                       tern.prog("tern-pop3d"), "-m"], env=dict(env, TERN_RELAYALLOW="1"))
    tap.ok(pop_login("127.0.0.9", pport, "secret"), "a login through a chain without tern-relayallow")
    tap.ok(not os.path.exists(os.path.join(relaydir, "127.0.0.9")),
           "records nothing, even with TERN_RELAYALLOW in the service's environment")
    tern.stop(pop)

    # IPv6: the record is named by the canonical address text.
    pop, pport, plog = tern.tcpserver([tern.prog("tern-pop3d"), "-P", "-d", "0", tern.prog("tern-checkpassword"), tern.prog("tern-relayallow"),
                                       tern.prog("tern-pop3d"), "-m"], env=env, host="::1")
    smtp, sport, slog = tern.tcpserver([tern.prog("tern-relaycheck"), tern.prog("tern-smtpd")], env=env, host="::1")
    code, text = relay("::1", sport, host="::1")
    tap.is_(code, 553, "IPv6 ::1 before a login: refused")
    tap.ok(pop_login("::1", pport, "secret", host="::1"), "POP3 login over IPv6")
    tap.ok(os.path.isfile(os.path.join(relaydir, "::1")), "record ::1 written")
    code, text = relay("::1", sport, host="::1")
    tap.is_(code, 250, "IPv6 ::1 after the login: relaying")
    tern.stop(smtp)
    tern.stop(pop)


tap.main(main)
