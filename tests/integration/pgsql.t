#!/usr/bin/env python3
"""Two tern hosts sharing their users and POP-before-SMTP relay table
through one PostgreSQL (issue 18, docs/fleet.md): host A on 127.0.0.2,
host B on 127.0.0.3, each with its own home and queue, one database started
by the test (initdb in a temporary folder, as an unprivileged user, on
loopback). The database users have exactly the GRANTs that
setup/pgsql-schema.sql documents."""
import base64
import os
import poplib
import smtplib
import subprocess

import tap
from popfrom import POP3From
import tern
import deliver
import pgsql
from terntls import client_context, make_cert

A, B = "127.0.0.2", "127.0.0.3"
NASTY_USER = "o'b\\r\"x');DROP/**/TABLE/**/tern_users;--@tern.test"
NASTY_PW = "pa'ss\\\"; DROP TABLE tern_users; --"


def home_for(name, db, mail):
    home = tern.make_home(control={"me": name + ".tern.test", "rcpthosts": "tern.test", "locals": "tern.test",
                                   "retryschedule": "1", "timeoutsmtpd": "30"})
    tern.make_queue(home)
    os.mkdir(os.path.join(home, "relay"))
    pgsql.configure(home, db)
    return home


def maildir(mail, name):
    md = os.path.join(mail, name, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    return md + "/"


def passwd(home, *args, pw=None):
    r = subprocess.run([tern.prog("tern-passwd")] + list(args), input=((pw or "") + "\n").encode(),
                       env=dict(os.environ, TERN_HOME=home), capture_output=True, timeout=60)
    return r.returncode, r.stderr


class Host:
    def __init__(self, ip, home, key, cert):
        self.ip, self.home = ip, home
        env = deliver.env(home)
        self.pop = tern.tcpserver([tern.prog("tern-pop3d"), "-P", "-d", "0", tern.prog("tern-checkpassword"),
                                   tern.prog("tern-relayallow"), tern.prog("tern-pop3d"), "-m"], host=ip, env=env)
        self.smtp = tern.tcpserver([tern.prog("tern-relaycheck"), tern.prog("tern-smtpd")], host=ip, env=env)
        self.smtps = tern.tcpserver([tern.prog("tern-tlsd"), "-i", "-k", key, "-c", cert, tern.prog("tern-smtpd"),
                                     tern.prog("tern-checkpassword"), "true"], host=ip, env=env)

    def logs(self):
        out = b""
        for _, _, log in (self.pop, self.smtp, self.smtps):
            with open(log, "rb") as f:
                out += f.read()
        return out


def pop_login(src, host, user, pw):
    """(True, count) after a good login, (False, the server's reply) otherwise."""
    p = POP3From(src, host.ip, host.pop[1], timeout=30)
    try:
        p.user(user)
        r = p.pass_(pw)
        n = p.stat()[0]
        p.quit()
        return True, n
    except poplib.error_proto as e:
        p.close()
        return False, e.args[0]


def relay(src, host, rcpt="bob@example.org"):
    """(code, text) of RCPT TO rcpt from src, with DATA's code when accepted."""
    s = smtplib.SMTP(host.ip, host.smtp[1], timeout=30, source_address=(src, 0))
    s.ehlo("client.example")
    s.mail("someone@example.net")
    code, text = s.rcpt(rcpt)
    if code == 250:
        code2, _ = s.data(b"Subject: via the shared table\r\n\r\nhello\r\n")
        text += b" / DATA %d" % code2
    s.quit()
    return code, text


def auth(host, user, pw):
    """The reply code to AUTH PLAIN over implicit TLS."""
    s = smtplib.SMTP_SSL(host.ip, host.smtps[1], timeout=30, context=client_context())
    s.ehlo("client.example")
    blob = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()
    code, _ = s.docmd("AUTH", "PLAIN " + blob)
    s.close()
    return code


def migrate(db, home, mail):
    """An existing host's users file, aliases and relay directory move in."""
    r = subprocess.run([tern.prog("tern-passwd"), "-h"], input=b"carol-pw\n", capture_output=True)
    carol = maildir(mail, "carol")
    with open(os.path.join(home, "users"), "w") as f:
        f.write("# the old host's accounts\nCarol@Tern.test:%s:%s\n" % (r.stdout.decode().strip(), carol))
    with open(os.path.join(home, "aliases"), "w") as f:
        f.write("info@tern.test: carol@tern.test\n")
    open(os.path.join(home, "relay", "127.0.0.9"), "w").close()
    old = os.path.join(home, "relay", "127.0.0.10")
    open(old, "w").close()
    os.utime(old, (1000, 1000))
    r = subprocess.run([tern.prog("tern-pgmigrate"), "-s", pgsql.SCHEMA, "-u", "-r"],
                       env=dict(os.environ, TERN_HOME=home), capture_output=True, timeout=60)
    tap.ok(r.returncode == 0, "tern-pgmigrate -s -u -r loads the schema (again), the users and the relay records", r.stderr)
    tap.like(r.stderr, b"1 relay records loaded", "the fresh relay record only")
    tap.is_(db.sql("SELECT address FROM tern_users ORDER BY 1"), "carol@tern.test\n", "the user, canonical")
    tap.is_(db.sql("SELECT address, target FROM tern_aliases"), "info@tern.test|carol@tern.test\n", "the alias")
    tap.is_(db.sql("SELECT ip FROM tern_relay"), "127.0.0.9\n", "the relay record")
    return carol


def main():
    if not pgsql.bindir():
        tap.skip_all("PostgreSQL server programs not installed (./deps installs them)")
    for p in ("tern-smtpd", "tern-pop3d", "tern-pgmigrate", "tern-send", "tern-tlsd"):
        if not os.path.exists(tern.prog(p)):
            tap.skip_all("%s not built yet" % p)
    db = pgsql.Server()
    tap.ok(db.setup_tern() >= 8, "database tern, its tables, and the documented roles and GRANTs")
    mail = tern.tmpdir("tern-mail-")
    key, cert = make_cert(tern.tmpdir())
    ha = home_for("a", db, mail)
    hb = home_for("b", db, mail)
    carol = migrate(db, ha, mail)
    a = Host(A, ha, key, cert)
    b = Host(B, hb, key, cert)
    send, slog = deliver.start_send(hb)

    # Migrated data works on the other host.
    tap.is_(pop_login("127.0.0.20", b, "carol@tern.test", "carol-pw"), (True, 0), "a migrated user logs in on B")
    tap.like(relay("127.0.0.9", b)[1], b"DATA 250", "a migrated relay record lets its client relay through B")

    # POP-before-SMTP across hosts.
    tap.is_(relay("127.0.0.5", a)[0], 553, "before any login, 127.0.0.5 may not relay through A")
    tap.is_(relay("127.0.0.5", b)[0], 553, "nor through B")
    tap.is_(pop_login("127.0.0.5", a, "carol@tern.test", "carol-pw"), (True, 0), "a POP3 login on A from 127.0.0.5")
    code, text = relay("127.0.0.5", b)
    tap.is_(code, 250, "127.0.0.5 now relays through B")
    tap.like(text, b"DATA 250", "and B queues the message")
    tap.is_(relay("127.0.0.5", a)[0], 250, "and through A")
    tap.is_(relay("127.0.0.6", a)[0], 553, "127.0.0.6, which did not log in, is refused on A")
    tap.is_(relay("127.0.0.6", b)[0], 553, "and on B")
    tap.is_(pop_login("127.0.0.7", a, "carol@tern.test", "wrong")[0], False, "a failed login on A")
    tap.is_(relay("127.0.0.7", b)[0], 553, "gives no relaying on B")
    db.sql("UPDATE tern_relay SET at = now() - interval '181 minutes' WHERE ip = '127.0.0.5'")
    tap.is_(relay("127.0.0.5", b)[0], 553, "after the expiry (180 minutes) 127.0.0.5 is refused again")
    tap.is_(db.sql("SELECT count(*) FROM tern_relay WHERE ip = '127.0.0.5'"), "0\n", "and its expired row is removed")
    db.sql("INSERT INTO tern_relay VALUES ('127.0.0.11', now() - interval '3 hours 1 minute')")
    db.sql("UPDATE tern_relay_sweep SET at = '-infinity'")
    relay("127.0.0.12", a)
    tap.is_(db.sql("SELECT count(*) FROM tern_relay WHERE ip = '127.0.0.11'"), "0\n",
            "the sweep removes other expired rows too")

    # Accounts made on A serve on B at once.
    dave = maildir(mail, "dave")
    tap.is_(passwd(ha, "add", "dave@tern.test", dave, pw="dave-pw")[0], 0, "tern-passwd add on A")
    tap.is_(auth(b, "dave@tern.test", "dave-pw"), 235, "the password works for SMTP AUTH on B")
    tap.is_(pop_login("127.0.0.21", b, "dave@tern.test", "dave-pw"), (True, 0), "and for POP3 on B")
    tap.is_(passwd(ha, "change", "dave@tern.test", pw="new-pw")[0], 0, "tern-passwd change on A")
    tap.is_(auth(b, "dave@tern.test", "dave-pw"), 535, "the old password is refused on B")
    tap.is_(auth(b, "dave@tern.test", "new-pw"), 235, "the new one works on B")
    code, err = passwd(ha, "add", "dave@tern.test", dave, pw="x")
    tap.ok(code == 100 and b"already there" in err, "adding dave twice: 100, already there", err)
    tap.ok(not os.path.exists(os.path.join(ha, "users")) or b"dave" not in open(os.path.join(ha, "users"), "rb").read(),
           "the users file is left alone")
    s = smtplib.SMTP(B, b.smtp[1], timeout=30)
    tap.is_(s.sendmail("x@example.net", ["dave@tern.test", "info@tern.test"], b"Subject: to dave\r\n\r\nhi\r\n"), {},
            "B accepts mail for dave, added on A, and for an alias of the database")
    code, _ = s.rcpt("nobody@tern.test") if s.mail("x@example.net")[0] == 250 else (0, b"")
    tap.is_(code, 550, "an unknown local user is refused on B")
    s.quit()
    tap.ok(tern.wait_for(lambda: len(os.listdir(dave + "new")) == 1 and len(os.listdir(carol + "new")) == 1, 60),
           "B delivered both (tern-local found the Maildirs in the database)")

    # Quotes, backslashes and SQL, literally.
    nasty = maildir(mail, "nasty")
    code, err = passwd(ha, "add", NASTY_USER, nasty, pw=NASTY_PW)
    tap.ok(code == 0, "a user with quotes, backslashes and SQL in its name and password", err)
    tap.is_(db.sql("SELECT count(*) FROM tern_users WHERE address = $$%s$$" % NASTY_USER.lower()), "1\n",
            "stored literally (and the table is still there)")
    tap.is_(auth(b, NASTY_USER, NASTY_PW), 235, "its SMTP AUTH works on B")
    tap.is_(pop_login("127.0.0.22", b, NASTY_USER, NASTY_PW)[0], True, "and its POP3 login")
    tap.is_(auth(b, NASTY_USER, "' OR '1'='1"), 535, "an injection as the password is just a wrong password")
    tap.is_(auth(b, "' OR '1'='1@tern.test", "' OR '1'='1"), 535, "and as the user, an unknown user")
    tap.is_(relay("127.0.0.23", b, rcpt="x'OR'1'='1@tern.test")[0], 550, "an injection as RCPT is an unknown user")

    # The database away: nothing opens, nothing is lost; back by itself.
    tap.is_(pop_login("127.0.0.5", a, "carol@tern.test", "carol-pw")[0], True, "a fresh POP3 login from 127.0.0.5")
    queued_before = len(tern.queued_messages(hb))
    db.stop()
    tap.is_(relay("127.0.0.5", b)[0], 553, "database stopped: relaying is refused, even for a fresh login")
    tap.is_(auth(b, "dave@tern.test", "new-pw"), 454, "AUTH gets 454")
    code, text = relay("127.0.0.24", b, rcpt="dave@tern.test")
    tap.is_(code, 451, "RCPT to a local user gets 451")
    ok, reply = pop_login("127.0.0.25", b, "dave@tern.test", "new-pw")
    tap.ok(not ok, "POP3 login fails", reply)
    tap.is_(deliver.queue(hb, b"Subject: queued while away\n\nx\n", "x@example.net", ["dave@tern.test"]), 0,
            "a message already accepted (queued on B)")
    tap.ok(tern.wait_for(lambda: slog.has("deferral: dave@tern.test: unable to read the aliases"), 60), "tern-local defers it",
           slog.text()[-2000:])
    tap.is_(len(os.listdir(dave + "new")), 1, "and delivers nothing while the database is away")
    tap.like(b.logs(), b"PostgreSQL: unable to connect", "the logs say why")
    db.start()
    tap.is_(relay("127.0.0.24", b, rcpt="dave@tern.test")[0], 250, "database back: RCPT accepted again")
    tap.is_(auth(b, "dave@tern.test", "new-pw"), 235, "AUTH again")
    tap.is_(pop_login("127.0.0.5", a, "carol@tern.test", "carol-pw")[0], True, "POP3 again")
    tap.like(relay("127.0.0.5", b)[1], b"DATA 250", "relaying again")
    tap.ok(tern.wait_for(lambda: len(os.listdir(dave + "new")) >= 3, 120), "the deferred message is delivered")
    tap.ok(len(tern.queued_messages(hb)) >= queued_before, "nothing was lost from B's queue meanwhile")

    # A lock held by an admin's open transaction: a lookup waits at most the
    # lookup roles' lock timeout (5 s; statements 10 s, lib/pgdb.h), then the
    # client gets a temporary refusal and its worker is free again.
    holder = db.hold("LOCK TABLE tern_users IN ACCESS EXCLUSIVE MODE")
    try:
        code, text = relay("127.0.0.27", b, rcpt="dave@tern.test")
    finally:
        db.release(holder)
    tap.ok(code == 451, "tern_users locked by another session: RCPT gets 451 after the lock timeout, not a hang", text)
    tap.like(b.logs(), b"canceling statement due to lock timeout", "and the log says why")
    tap.is_(relay("127.0.0.28", b, rcpt="dave@tern.test")[0], 250, "lock released: RCPT accepted again")

    # A connection string others could read is refused, and never logged.
    os.chmod(os.path.join(hb, "control", "pgsql"), 0o644)
    tap.is_(relay("127.0.0.26", b, rcpt="dave@tern.test")[0], 451, "control/pgsql readable by everyone: 451, not used")
    tap.like(b.logs(), b"readable by everyone", "and the log says so")
    os.chmod(os.path.join(hb, "control", "pgsql"), 0o600)
    logs = a.logs() + b.logs() + slog.text().encode()
    tap.ok(not any(pw.encode() in logs for pw in pgsql.PASSWORDS.values()), "no database password in any log")
    tern.stop(send)

    # libpq is loaded when a database is configured, never linked: an exec
    # of tern-smtpd on a host without control/pgsql maps no libpq (docs/fleet.md).
    for prog in ("tern-smtpd", "tern-relaycheck", "tern-checkpassword"):
        r = subprocess.run(["ldd", tern.prog(prog)], capture_output=True, text=True)
        tap.ok(r.returncode == 0 and "libpq" not in r.stdout, "%s is not linked with libpq" % prog, r.stdout)


tap.main(main)
