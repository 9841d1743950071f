#!/usr/bin/env python3
"""make run, as a new user meets it: setup/make-run (what `make run` calls)
in an empty directory, on free ports. A message to the demo user lands in
its Maildir and comes back over POP3; a submission with STARTTLS and AUTH
relays to a sink standing in for a remote domain; relaying from an untrusted
address is refused; restarting the scheduler while mail flows loses none;
Ctrl-C leaves no process behind."""
import os
import poplib
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time

import tap
import tern

sys.path.insert(0, os.path.join(tern.TOP, "tests", "lib"))
import sink  # noqa: E402

DOMAIN = "tern.test"
USER = "demo@" + DOMAIN


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def instance_pids(home):
    """PIDs of live processes that carry this instance's TERN_HOME."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/stat" % p) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if ("TERN_HOME=" + home).encode() in env and state != "Z":
            pids.append(int(p))
    return pids


def maildir_files(home):
    d = os.path.join(home, "mail", "demo", "Maildir", "new")
    return [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []


def arrived(home, token):
    for f in maildir_files(home):
        try:
            if token.encode() in open(f, "rb").read():
                return f
        except OSError:
            pass
    return None


def send(port, to, token, source="127.0.0.1"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(source, 0)) as s:
        s.ehlo("client.example")
        s.sendmail("sender@example.org", [to], "From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\nbody %s\r\n"
                   % (to, token, token))


def start(work, ports):
    flags = " ".join("-p %s=%d" % kv for kv in ports.items())
    p = tern.spawn([os.path.join(tern.TOP, "setup", "make-run"), tern.BIN], cwd=work,
                   env={"TERN_SETUP_FLAGS": flags}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = []
    for _ in range(40):
        line = p.stdout.readline()
        if not line:
            break
        banner.append(line)
        if "Ctrl-C" in line:
            break
    tap.note("".join(banner))
    # keep reading so that make-run never blocks on a full pipe
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    return p, "".join(banner)


def test_mail_in_and_out(home, ports, pw):
    send(ports["smtp"], USER, "first-message")
    f = tern.wait_for(lambda: arrived(home, "first-message"), 30)
    tap.ok(f, "a message sent with smtplib lands in the demo Maildir (new/)")
    pop = poplib.POP3("127.0.0.1", ports["pop3"], timeout=30)
    pop.stls(ctx())
    pop.user(USER)
    tap.like(pop.pass_(pw), b"+OK", "POP3 with STLS logs the demo user in")
    n, _ = pop.stat()
    tap.ok(n >= 1, "POP3 sees the message")
    text = b"\n".join(pop.retr(1)[1])
    tap.like(text, b"Subject: first-message", "and reads it back")
    pop.quit()
    pop = poplib.POP3_SSL("127.0.0.1", ports["pop3s"], timeout=30, context=ctx())
    pop.user(USER)
    tap.like(pop.pass_(pw), b"+OK", "POP3 over TLS (pop3s) logs in too")
    pop.quit()
    pop = poplib.POP3("127.0.0.1", ports["pop3"], timeout=30)
    pop.stls(ctx())
    pop.user(USER)
    try:
        pop.pass_(pw + "x")
        tap.ok(False, "a wrong password is refused")
    except poplib.error_proto as e:
        tap.like(str(e), "-ERR", "a wrong password is refused")
    pop.close()


def test_submission(home, ports, pw):
    s = sink.Sink("127.0.0.1", 0)
    s.start()
    with open(os.path.join(home, "control", "smtproutes"), "w") as f:
        f.write("remote.test:[127.0.0.1]:%d\n" % s.port)
    with smtplib.SMTP("127.0.0.1", ports["submission"], timeout=30) as c:
        c.ehlo("client.example")
        try:
            c.sendmail(USER, ["friend@remote.test"], "Subject: no auth\r\n\r\nx\r\n")
            tap.ok(False, "submission refuses mail without AUTH")
        except smtplib.SMTPException as e:
            tap.like(str(e), "5", "submission refuses mail without AUTH")
    with smtplib.SMTP("127.0.0.1", ports["submission"], timeout=30) as c:
        c.ehlo("client.example")
        c.starttls(context=ctx())
        c.ehlo("client.example")
        c.login(USER, pw)
        c.sendmail(USER, ["friend@remote.test"], "From: %s\r\nSubject: relayed\r\n\r\nsubmitted relayed-token\r\n" % USER)
        tap.ok(True, "submission with STARTTLS and AUTH accepts mail for a remote domain")
    tap.ok(s.wait(1, 30) >= 1, "the remote domain's server (sink) gets it")
    t = s.transactions[0] if s.transactions else {}
    tap.is_(t.get("rcpts"), ["friend@remote.test"], "for the right recipient")
    tap.like(t.get("data", b""), b"relayed-token", "with the message")
    s.stop()


def test_relay_refused(ports):
    with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=30, source_address=("127.0.0.2", 0)) as c:
        c.ehlo("outsider.example")
        c.mail("spammer@example.org")
        code, msg = c.rcpt("victim@remote.test")
        tap.ok(500 <= code < 600, "relaying from an untrusted address (127.0.0.2) without auth is refused",
               "%d %r" % (code, msg))
        code, msg = c.rcpt(USER)
        tap.is_(code, 250, "while mail for the local domain is accepted from it")


def test_restart_scheduler(home, ports):
    tokens = ["flow-%02d" % i for i in range(30)]
    errors = []

    def flow():
        for t in tokens:
            try:
                send(ports["smtp"], USER, t)
            except Exception as e:  # noqa: BLE001 -- recorded, asserted below
                errors.append("%s: %r" % (t, e))
    th = threading.Thread(target=flow)
    th.start()
    restarts = 0
    while th.is_alive() and restarts < 5:
        time.sleep(0.2)
        r = subprocess.run(["s6-svc", "-r", os.path.join(home, "service", "send")], capture_output=True)
        restarts += r.returncode == 0
    th.join(120)
    tap.is_(errors, [], "every message of the flow was accepted")
    tap.ok(restarts >= 1, "the scheduler was restarted while messages flowed (%d times)" % restarts)
    missing = tern.wait_for(lambda: [t for t in tokens if not arrived(home, t)] or None, 60) and \
        [t for t in tokens if not arrived(home, t)]
    tap.is_(missing or [], [], "all %d messages were delivered despite the restarts" % len(tokens))


def main():
    work = tern.tmpdir("tern-run-")
    home = os.path.join(work, "var", "demo")
    ports = {s: tern.free_port() for s in ("smtp", "submission", "smtps", "pop3", "pop3s")}
    p, banner = start(work, ports)
    m = re.search(r"password (\S+)", banner)
    tap.ok(m, "make-run shows the demo password")
    pw = m.group(1) if m else ""
    tap.like(banner, "swaks --server 127.0.0.1:%d --to %s" % (ports["smtp"], USER), "and how to send a first message")
    tap.like(banner, os.path.join(home, "mail/demo/Maildir/new"), "where it lands")
    tap.like(banner, "poplib", "how to read it")
    tap.like(banner, "Ctrl-C", "and how to stop")
    up = all(tern.wait_port("127.0.0.1", ports[s], 30) for s in ports)
    tap.ok(up, "every service comes up")
    if up:
        test_mail_in_and_out(home, ports, pw)
        test_submission(home, ports, pw)
        test_relay_refused(ports)
        test_restart_scheduler(home, ports)
    tap.ok(instance_pids(home), "the instance's processes carry its TERN_HOME (what the next check looks for)")
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
    try:
        rc = p.wait(60)
    except subprocess.TimeoutExpired:
        rc = None
    tap.is_(rc, 0, "Ctrl-C stops make-run")
    left = instance_pids(home)
    tap.is_(left, [], "and leaves no process behind")
    tap.ok(not any(tern.can_connect("127.0.0.1", ports[s]) for s in ports), "nothing listens any more")


tap.main(main)
