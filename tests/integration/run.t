#!/usr/bin/env python3
"""make run, as a new user meets it: setup/make-run (what `make run` calls)
in an empty directory, on free ports. It prints how to use the demo and
brings every service up; a message sent with smtplib to the demo user lands
in its Maildir and is read back over POP3; a submission with STARTTLS and
AUTH relays to a sink standing in for a remote domain; relaying from an
untrusted address is refused; the scheduler
can be restarted with s6-svc -r while messages flow without losing one;
Ctrl-C stops it leaving no process behind; a second run reuses the
instance. Run as root (the suite is), each service runs as its own user of
conf-users, as after make install, and delivered messages belong to the
Maildir's owner, not to root."""
import os
import pwd
import stat
import poplib
import smtplib
import socket
import subprocess
import threading
import time

import sink
import tap
import tern
from demo import Demo, USER, tls_context


def test_banner(d):
    tap.ok(d.password and len(d.password) >= 12, "make-run shows the demo password on the first run")
    tap.like(d.banner, "swaks --server 127.0.0.1:%d --to %s" % (d.ports["smtp"], USER), "how to send a first message")
    tap.like(d.banner, os.path.join(d.home, "mail/demo/Maildir/new"), "where it lands")
    tap.like(d.banner, "poplib.POP3(\"127.0.0.1\",%d)" % d.ports["pop3"], "how to read it with POP3")
    tap.like(d.banner, "export TERN_HOME=%s PATH=" % d.home,
             "the one export line that points a shell's tools at the demo")
    tap.like(d.banner, "Ctrl-C", "and how to stop")


def send(d, to, subject, source="127.0.0.1"):
    with smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=30, source_address=(source, 0)) as c:
        c.ehlo("client.example")
        return c.sendmail("sender@example.org", [to],
                          "From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\nbody %s\r\n" % (to, subject, subject))


def test_smtp_in(d):
    refused = send(d, USER, "first-message")
    tap.is_(refused, {}, "smtplib sends a message to the demo user")
    f = tern.wait_for(lambda: d.arrived("first-message"), 30)
    tap.ok(f, "it lands in the demo Maildir (new/)")
    if f:
        text = open(f, "rb").read()
        tap.like(text, b"Received: ", "with a Received: line")
        tap.like(text, b"Subject: first-message\n", "and the message as sent")


USERS = [l.strip() for l in open(os.path.join(tern.TOP, "conf-users")).read().splitlines()[:9]]


def test_users(d):
    """As root: the services as make install runs them, the mail the mailbox owner's."""
    if os.geteuid() != 0:
        tap.note("not root: every service runs as the user who ran make run; the per-user checks are skipped")
        return
    net, queue, send, remote, local, tls, auth, log, dkim = USERS
    f = d.arrived("first-message")
    st = os.stat(f) if f else None
    tap.ok(st and pwd.getpwuid(st.st_uid).pw_name == local and stat.S_IMODE(st.st_mode) & 0o077 == 0,
           "the delivered message belongs to the Maildir's owner (%s), private" % local,
           st and (st.st_uid, oct(st.st_mode)))
    md = os.path.join(d.home, "mail", "demo", "Maildir")
    tap.is_(sorted({pwd.getpwuid(os.stat(os.path.join(md, s)).st_uid).pw_name for s in ("", "new", "cur", "tmp")}),
            [local], "the demo Maildir is %s's" % local)
    running = {}
    for p in d.pids():
        try:
            with open("/proc/%d/status" % p) as fh:
                status = dict(l.split(":", 1) for l in fh.read().splitlines() if ":" in l)
        except OSError:
            continue
        running.setdefault(status["Name"].strip(), set()).add(pwd.getpwuid(int(status["Uid"].split()[1])).pw_name)
    tap.is_(running.get("tern-send"), {send}, "tern-send runs as %s" % send)
    if "tern-queued" in running:
        tap.is_(running.get("tern-queued"), {queue}, "tern-queued runs as %s" % queue)
    tap.is_(running.get("s6-log"), {log}, "the logs are written as %s" % log)
    tap.like(d.banner, "each service runs as its own user of conf-users", "make run says so")
    tap.like(d.banner, "export TERN_HOME=%s PATH=%s/bin:$PATH" % (d.home, d.home),
             "and its export line points at the demo's own programs")
    bindir = os.path.join(d.home, "bin")
    tap.is_(stat.S_IMODE(os.stat(os.path.join(bindir, "tern-local")).st_mode), 0o4710,
            "tern-local is set-id as make install makes it (built for the demo's home)")


def test_pop3(d):
    pop = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=30)
    pop.stls(tls_context())
    pop.user(USER)
    tap.like(pop.pass_(d.password), b"+OK", "POP3 with STLS logs the demo user in with the printed password")
    n, _ = pop.stat()
    tap.ok(n >= 1, "POP3 sees the message")
    text = b"\n".join(pop.retr(1)[1])
    tap.like(text, b"Subject: first-message", "and reads it back")
    pop.quit()
    pop = poplib.POP3_SSL("127.0.0.1", d.ports["pop3s"], timeout=30, context=tls_context())
    pop.user(USER)
    tap.like(pop.pass_(d.password), b"+OK", "POP3 over TLS (pop3s) logs in too")
    pop.quit()
    pop = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=30)
    pop.stls(tls_context())
    pop.user(USER)
    try:
        pop.pass_(d.password + "x")
        tap.ok(False, "a wrong password is refused")
    except poplib.error_proto as e:
        tap.like(str(e), "-ERR", "a wrong password is refused")
    pop.close()
    pop = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=30)
    try:
        pop.user(USER)
        tap.ok(False, "USER before STLS is refused")
    except poplib.error_proto as e:
        tap.like(str(e), "STLS", "USER before STLS is refused, pointing at STLS")
    pop.close()


def test_submission(d):
    s = sink.Sink("127.0.0.1", 0).start()
    with open(os.path.join(d.home, "control", "smtproutes"), "w") as f:
        f.write("remote.test:[127.0.0.1]:%d\n" % s.port)
    with smtplib.SMTP("127.0.0.1", d.ports["submission"], timeout=30) as c:
        c.ehlo("client.example")
        tap.ok(not c.has_extn("auth"), "submission offers no AUTH before STARTTLS")
        code, msg = c.mail(USER)
        tap.is_(code, 530, "and refuses MAIL without AUTH")
    with smtplib.SMTP("127.0.0.1", d.ports["submission"], timeout=30) as c:
        c.ehlo("client.example")
        c.starttls(context=tls_context())
        c.ehlo("client.example")
        code, _ = c.login(USER, d.password)
        tap.is_(code, 235, "submission with STARTTLS takes AUTH with the demo password")
        refused = c.sendmail(USER, ["friend@remote.test"],
                             "From: %s\r\nTo: friend@remote.test\r\nSubject: relayed\r\n\r\nrelayed-token\r\n" % USER)
        tap.is_(refused, {}, "and accepts mail for a remote domain")
    tap.is_(s.wait(1, 30), 1, "tern-remote relays it to the remote domain's server (the sink, via smtproutes)")
    t = s.transactions[0] if s.transactions else {}
    tap.is_(t.get("mail_from"), USER, "from the demo user")
    tap.is_(t.get("rcpts"), ["friend@remote.test"], "to the right recipient")
    tap.like(t.get("data", b""), b"relayed-token", "with the message")
    with smtplib.SMTP_SSL("127.0.0.1", d.ports["smtps"], timeout=30, context=tls_context()) as c:
        c.ehlo("client.example")
        try:
            c.login(USER, d.password + "x")
            tap.ok(False, "smtps refuses a wrong password")
        except smtplib.SMTPAuthenticationError as e:
            tap.is_(e.smtp_code, 535, "smtps refuses a wrong password")
        code, _ = c.login(USER, d.password)
        tap.is_(code, 235, "and takes the right one")
    s.stop()


def test_relay_refused(d):
    with smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=30, source_address=("127.0.0.2", 0)) as c:
        c.ehlo("outsider.example")
        c.mail("spammer@example.org")
        code, msg = c.rcpt("victim@remote.test")
        tap.is_(code, 553, "relaying from an untrusted address (127.0.0.2) without auth is refused")
        tap.like(msg, b"5.7.1", "with 5.7.1")
        code, msg = c.rcpt(USER)
        tap.is_(code, 250, "while mail for the demo user is accepted from it")
    with smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=30) as c:
        c.ehlo("me.example")
        c.mail("me@example.org")
        code, _ = c.rcpt("friend@remote.test")
        tap.is_(code, 250, "127.0.0.1 is trusted by the demo's rules and may relay")


def test_restart_scheduler(d):
    tokens = ["flow-%02d" % i for i in range(40)]
    codes = []

    def flow():
        for t in tokens:
            try:
                codes.append(send(d, USER, t))
            except (OSError, smtplib.SMTPException) as e:
                codes.append(repr(e))
            time.sleep(0.01)
    th = threading.Thread(target=flow)
    th.start()
    restarts = 0
    svc = os.path.join(d.home, "service", "send")
    while th.is_alive() and restarts < 5:
        time.sleep(0.1)
        restarts += subprocess.run(["s6-svc", "-r", svc]).returncode == 0
    th.join(120)
    tap.is_(codes, [{}] * len(tokens), "tern-smtpd accepted all %d messages" % len(tokens))
    tap.ok(restarts >= 1, "s6-svc -r restarted the scheduler while they flowed (%d times)" % restarts)
    tern.wait_for(lambda: all(d.arrived(t) for t in tokens), 60)
    tap.is_([t for t in tokens if not d.arrived(t)], [], "every message reached the Maildir")
    log = open(os.path.join(d.home, "log", "send", "current")).read()
    tap.ok(log.count("tern-send: info: starting") >= 2, "the scheduler's log shows it was restarted")


def main():
    d = Demo().start()
    test_banner(d)
    tap.ok(d.up(), "every service listens")
    tap.ok(tern.wait_for(lambda: os.path.exists(os.path.join(d.home, "log", "send", "current")), 20),
           "each service logs into var/demo/log/NAME/current")
    test_smtp_in(d)
    test_users(d)
    test_pop3(d)
    test_submission(d)
    test_relay_refused(d)
    test_restart_scheduler(d)
    tap.ok(d.pids(), "the instance's processes carry its TERN_HOME (what the last checks look for)")
    tap.is_(d.interrupt(), 0, "Ctrl-C stops make-run")
    tap.is_(d.pids(), [], "and leaves no process behind")
    tap.ok(not [l for l in d.rest if "left running" in l], "s6 brought every service down by itself",
           "".join(d.rest))
    tap.ok(not any(tern.can_connect("127.0.0.1", p) for p in d.ports.values()), "nothing listens any more")

    again = Demo()
    again.work, again.home, again.ports = d.work, d.home, d.ports
    squatter = socket.socket()  # another program on the smtps port
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", d.ports["smtps"]))
    squatter.listen(1)
    again.start()
    tap.is_(again.password, None, "a second make-run reuses the instance and prints no new password")
    tap.like(again.banner, "warning: port %d (smtps) is already in use" % d.ports["smtps"],
             "it warns about a port another program holds")
    tap.ok(all(tern.wait_port("127.0.0.1", p, 30) for s, p in d.ports.items() if s != "smtps"),
           "and brings the other services up again")
    squatter.close()
    tap.is_(again.interrupt(), 0, "Ctrl-C stops it again")
    tap.is_(again.pids(), [], "leaving nothing behind")


tap.main(main)
