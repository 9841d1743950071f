#!/usr/bin/env python3
"""make install as root: programs, the users of conf-users, owners and modes
for privilege separation, and the instance; then each running process has
the uid its job needs. Installs into a temporary TERN_HOME on free ports;
the only lasting change to the machine is the system users."""
import atexit
import grp
import os
import poplib
import pwd
import re
import shutil
import smtplib
import socket
import ssl
import stat
import subprocess

import sink
import tap
import tern

USERS = [l.strip() for l in open(os.path.join(tern.TOP, "conf-users")).read().splitlines()[:9]]
NET, QUEUE, SEND, REMOTE, LOCAL, TLS, AUTH, LOG, DKIM = USERS


def owner(path):
    st = os.stat(path)
    return pwd.getpwuid(st.st_uid).pw_name, stat.S_IMODE(st.st_mode)


def procs(home):
    """{pid: (name, uid name)} of the processes that carry this TERN_HOME."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            env = open("/proc/%s/environ" % p, "rb").read().split(b"\0")
            if ("TERN_HOME=" + home).encode() not in env:
                continue
            status = dict(l.split(":", 1) for l in open("/proc/%s/status" % p).read().splitlines() if ":" in l)
        except OSError:
            continue
        if status["State"].strip().startswith("Z"):
            continue
        uid = int(status["Uid"].split()[1])  # effective
        out[int(p)] = (status["Name"].strip(), pwd.getpwuid(uid).pw_name)
    return out


def uids_of(ps, name):
    return sorted({u for n, u in ps.values() if n == name})


def main():
    if os.geteuid() != 0:
        tap.skip_all("make install needs root")
    base = tern.tmpdir("tern-install-")
    os.chmod(base, 0o755)  # the service users must reach the instance
    home = os.path.join(base, "tern")
    ports = {s: tern.free_port() for s in ("smtp", "submission", "smtps", "pop3", "pop3s")}
    flags = "-i 127.0.0.1 " + " ".join("-p %s=%d" % kv for kv in ports.items())
    # the set-id programs use only their compiled home: built for this one
    bindir = tern.install_bin(home)
    tap.ok(bindir, "the set-id programs build for this home")
    if not bindir:
        return
    r = subprocess.run([os.path.join(tern.TOP, "setup", "make-install"), tern.BIN, home],
                       capture_output=True, text=True, timeout=120)
    tap.ok(r.returncode == 111 and "was built for the home" in r.stderr,
           "make-install refuses set-id programs built for another home", r.stderr)
    tap.ok(not os.path.exists(home), "and installs nothing")
    mandir = os.path.join(base, "man")  # not the machine's /usr/local/share/man
    r = subprocess.run([os.path.join(tern.TOP, "setup", "make-install"), bindir, home],
                       env=dict(os.environ, TERN_SETUP_FLAGS=flags, MANDIR=mandir), capture_output=True, text=True, timeout=120)
    tap.is_(r.returncode, 0, "make-install succeeds as root")
    tap.note(r.stdout + r.stderr)
    install_out = r.stdout
    tap.ok(os.path.isfile(os.path.join(mandir, "man8", "tern-smtpd.8")), "the man pages are installed under MANDIR/man8")
    for u in USERS:
        try:
            pw = pwd.getpwnam(u)
            tap.ok(pw.pw_shell.endswith("nologin") and pw.pw_uid < 1000, "system user %s exists, without a shell" % u)
        except KeyError:
            tap.ok(False, "system user %s exists" % u)
    tap.ok(SEND in [m for m in grp.getgrnam(QUEUE).gr_mem], "the scheduler is in the queue's group")
    b = os.path.join(home, "bin")
    tap.is_(owner(os.path.join(b, "tern-queue")), (QUEUE, 0o6711), "tern-queue is setuid and setgid to the queue user")
    for prog, u in (("tern-local", LOCAL), ("tern-remote", REMOTE)):
        st = os.stat(os.path.join(b, prog))
        tap.is_((owner(os.path.join(b, prog)), grp.getgrgid(st.st_gid).gr_name), ((u, 0o4710), SEND),
                "%s is setuid to %s, runnable by the scheduler's group only" % (prog, u))
    tap.is_(owner(os.path.join(b, "tern-checkpassword")), (AUTH, 0o4711), "tern-checkpassword is setuid to %s" % AUTH)
    tap.is_(owner(os.path.join(b, "tern-dkimseal")), (DKIM, 0o4711), "tern-dkimseal is setuid to %s" % DKIM)
    tap.is_(owner(os.path.join(b, "tern-smtpd")), ("root", 0o755), "other programs belong to root, mode 755")
    want = [("queue", QUEUE, 0o750), ("queue/tmp", QUEUE, 0o700), ("queue/mess", QUEUE, 0o750),
            ("queue/mess/00", QUEUE, 0o770), ("queue/state", SEND, 0o700), ("queue/state/ff", SEND, 0o700),
            ("queue/trigger", QUEUE, 0o660), ("tls/key.pem", TLS, 0o400), ("users", AUTH, 0o600),
            ("passwd.cdb", AUTH, 0o600), ("control/rcpthosts", "root", 0o644), ("control", "root", 0o755),
            ("mail/demo/Maildir", LOCAL, 0o700), ("relay", LOCAL, 0o2770), ("service/smtp/run", "root", 0o755),
            ("dkim", DKIM, 0o700), ("dkim/tern.test", DKIM, 0o700), ("mtasts", REMOTE, 0o700),
            ("tlsrpt", REMOTE, 0o700)]
    keys = os.listdir(os.path.join(home, "dkim/tern.test"))
    tap.is_([owner(os.path.join(home, "dkim/tern.test", k)) for k in keys], [(DKIM, 0o400)],
            "tern-setup made one DKIM key for the domain, %s's alone (mode 400)" % DKIM)
    r = subprocess.run(["runuser", "-u", NET, "--", "cat", os.path.join(home, "dkim/tern.test", keys[0] if keys else "x")],
                       capture_output=True)
    tap.ok(r.returncode != 0 and not r.stdout, "the SMTP user cannot read it")
    for rel, u, m in want:
        tap.is_(owner(os.path.join(home, rel)), (u, m), "%s belongs to %s, mode %o" % (rel, u, m))
    r = subprocess.run([os.path.join(b, "tern-check"), home], capture_output=True, text=True)
    tap.is_((r.returncode, r.stderr), (0, ""), "tern-check accepts the installed instance")

    # a relay route to a sink, for the remote delivery across the users below
    sk = sink.Sink("127.0.0.2", 0).start()
    with open(os.path.join(home, "control", "rcpthosts"), "a") as f:
        f.write("far.test\n")
    for name, text in (("smtproutes", "far.test:[127.0.0.2]:%d\n" % sk.port), ("remoteidle", "60\n")):
        with open(os.path.join(home, "control", name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(home, "control", name), 0o644)

    scan = tern.spawn(["s6-svscan", os.path.join(home, "service")], env={"TERN_HOME": home},
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cleanup():
        # before tern's (atexit: last in, first out), which would SIGKILL
        # s6-svscan and orphan the services: shut down, then end leftovers by PID
        if scan.poll() is None:
            subprocess.run(["s6-svscanctl", "-t", os.path.join(home, "service")])
            tern.wait_for(lambda: scan.poll() is not None, 15)
        for p in procs(home):
            try:
                os.kill(p, 9)
            except ProcessLookupError:
                pass
    atexit.register(cleanup)
    up = all(tern.wait_port("127.0.0.1", p, 30) for p in ports.values())
    tap.ok(up, "the installed services come up")
    # sessions held open while the processes are looked at
    smtp = smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=30)
    smtp.ehlo("client.example")
    c = ssl.create_default_context()
    c.check_hostname, c.verify_mode = False, ssl.CERT_NONE
    pop = c.wrap_socket(socket.create_connection(("127.0.0.1", ports["pop3s"]), 30))
    greeting = pop.recv(512)
    tap.like(greeting, b"+OK", "a POP3 session over TLS starts")

    def seen():
        x = procs(home)
        return x if uids_of(x, "tern-smtpd") and uids_of(x, "tern-pop3d") and uids_of(x, "tern-send") and uids_of(x, "tern-queued") else None
    ps = tern.wait_for(seen, 20) or procs(home)
    tap.note("\n".join("%d %s %s" % (p, n, u) for p, (n, u) in sorted(ps.items())))
    tap.is_(uids_of(ps, "s6-log"), [LOG], "s6-log runs as %s" % LOG)
    tap.is_(uids_of(ps, "tern-send"), [SEND], "tern-send runs as %s" % SEND)
    tap.is_(uids_of(ps, "tern-queued"), [QUEUE], "the queue writer tern-queued runs as %s" % QUEUE)
    tap.is_(owner(os.path.join(home, "queued")), (QUEUE, 0o750), "queued/ (its socket's directory) is %s's, mode 750" % QUEUE)
    tap.is_(grp.getgrgid(os.stat(os.path.join(home, "queued")).st_gid).gr_name, NET,
            "and only %s's group may enter it" % NET)
    tap.is_(uids_of(ps, "tern-smtpd"), [NET], "tern-smtpd runs as %s" % NET)
    tap.is_(uids_of(ps, "tern-pop3d"), [LOCAL], "tern-pop3d runs as %s (the Maildirs' owner)" % LOCAL)
    tap.ok(TLS in uids_of(ps, "tern-tlsd"), "the TLS engine runs as %s" % TLS)
    tap.ok(tern.wait_for(lambda: REMOTE in uids_of(procs(home), "sleep"), 30),
           "the tlsrpt service runs tern-tlsrpt, then its hourly sleep, as %s" % REMOTE)
    tlog = os.path.join(home, "log", "tlsrpt", "current")
    tap.ok(tern.wait_for(lambda: os.path.exists(tlog) and b"tern-tlsrpt: info: MTA-STS cache:" in open(tlog, "rb").read(), 30),
           "and tern-tlsrpt did its work as that user (log/tlsrpt)")
    ps = procs(home)
    listeners = {u for n, u in ps.values() if n == "tern-tcpserver"}
    tap.is_(listeners, {"root"}, "every listener stays root so that its tern-tlsd can read the key (port 25 too: STARTTLS)")
    root = sorted({n for n, u in ps.values() if u == "root"})
    tap.ok(set(root) <= {"s6-svscan", "s6-supervise", "tern-tcpserver", "tern-tlsd"},
           "as root only: s6, the TLS listeners and the forking side of tern-tlsd (%s)" % ", ".join(root))
    smtp.sendmail("sender@example.org", ["demo@tern.test"], "Subject: installed\r\n\r\nhello\r\n")
    smtp.quit()
    pop.close()
    new = os.path.join(home, "mail/demo/Maildir/new")
    got = tern.wait_for(lambda: os.listdir(new), 30)
    tap.ok(got, "a message is delivered to the demo Maildir")
    if got:
        tap.is_(owner(os.path.join(new, got[0])), (LOCAL, 0o600), "the delivered file belongs to %s, mode 600" % LOCAL)
        def queued():
            # the idle delivery slots keep their (empty) job files
            return [f for d, _, fs in os.walk(os.path.join(home, "queue")) for f in fs
                    if f != "trigger" and not (os.path.basename(d) == "job" and os.path.getsize(os.path.join(d, f)) == 0)]
        tern.wait_for(lambda: not queued(), 20)
        tap.is_(queued(), [], "and the queue is empty again")
    with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=30) as s2:
        s2.sendmail("sender@example.org", ["x@far.test"], "Subject: relayed\r\n\r\nrelayed-token\r\n")
    tap.is_(sk.wait(1, 30), 1, "a relayed message reaches the remote host")
    tap.ok(sk.transactions and b"relayed-token" in sk.transactions[0]["data"], "with its content")
    # the batch run waits idle (remoteidle 60) with its connection open
    ps = tern.wait_for(lambda: (lambda x: x if uids_of(x, "tern-remote") else None)(procs(home)), 20) or {}
    tap.is_(uids_of(ps, "tern-remote"), [REMOTE],
            "tern-remote -b runs as %s, handed the queue file by tern-send (%s)" % (REMOTE, SEND))
    pw = re.search(r"password (\S+)", install_out)
    pop = poplib.POP3_SSL("127.0.0.1", ports["pop3s"], timeout=30, context=c)
    pop.user("demo@tern.test")
    tap.like(pop.pass_(pw.group(1) if pw else "x"), b"+OK",
             "POP3 login works across the users: pop3d (%s), checkpassword (setuid %s)" % (LOCAL, AUTH))
    tap.ok(pop.stat()[0] >= 1, "and the mailbox part (%s) reads the Maildir" % LOCAL)
    pop.quit()
    with smtplib.SMTP("127.0.0.1", ports["submission"], timeout=30) as sub:
        sub.ehlo("client.example")
        sub.starttls(context=c)
        sub.ehlo("client.example")
        code, _ = sub.login("demo@tern.test", pw.group(1) if pw else "x")
        tap.is_(code, 235, "submission AUTH works across the users: tern-tlsd (%s), tern-smtpd (%s)" % (TLS, NET))
        tap.is_(sub.sendmail("demo@tern.test", ["demo@tern.test"],
                             "From: demo@tern.test\r\nSubject: submitted\r\n\r\nsubmitted-token\r\n"), {},
                "and a message is submitted")
    md = os.path.dirname(new)

    def submitted():
        for sub_dir in ("new", "cur"):
            for f in os.listdir(os.path.join(md, sub_dir)):
                if b"submitted-token" in open(os.path.join(md, sub_dir, f), "rb").read():
                    return True
        return False
    tap.ok(tern.wait_for(submitted, 30), "and delivered")

    def signed(token=b"submitted-token"):
        for sub_dir in ("new", "cur"):
            for f in os.listdir(os.path.join(md, sub_dir)):
                data = open(os.path.join(md, sub_dir, f), "rb").read()
                if token in data:
                    # tern-local puts Return-Path and Delivered-To on top
                    head = b"\n" + data.split(b"\n\n")[0]
                    return b"\nDKIM-Signature: v=1; a=rsa-sha256;" in head and b"d=tern.test;" in head
        return False
    tap.ok(signed(), "DKIM-signed on the way (tern-dkimsign as %s, the key read by tern-dkimseal as %s)" % (NET, DKIM))
    qlog = os.path.join(home, "log", "queued", "current")
    tap.ok(b"refused a client" not in (open(qlog, "rb").read() if os.path.exists(qlog) else b""),
           "tern-queued lets tern-dkimsign (%s) in: no refusal in its log" % NET)
    # a local user: tern-inject runs tern-dkimsign (control/injectqueue) as
    # that user, whom queued/ keeps out: tern-queue (set-id) writes it
    r = subprocess.run(["runuser", "-u", "nobody", "--", os.path.join(b, "tern-inject"), "demo@tern.test"],
                       input=b"From: demo@tern.test\nSubject: injected\n\ninjected-token\n",
                       env={"TERN_HOME": home, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, capture_output=True, timeout=60)
    tap.ok(r.returncode == 0, "tern-inject by a local user (nobody) works", r.stderr)
    tap.ok(tern.wait_for(lambda: signed(b"injected-token"), 30), "and its message is signed and delivered")
    key = os.path.join(home, "dkim/tern.test", keys[0] if keys else "x")
    os.chmod(key, 0)
    with smtplib.SMTP("127.0.0.1", ports["submission"], timeout=30) as sub:
        sub.ehlo("client.example")
        sub.starttls(context=c)
        sub.ehlo("client.example")
        sub.login("demo@tern.test", pw.group(1) if pw else "x")
        sub.mail("demo@tern.test")
        sub.rcpt("demo@tern.test")
        code, text = sub.data(b"From: demo@tern.test\r\nSubject: unsigned?\r\n\r\nno\r\n")
        tap.ok(code == 451, "a key its user cannot read: 451, not an unsigned 250", (code, text))
    os.chmod(key, 0o400)
    rec = os.path.join(home, "relay", "127.0.0.1")
    tap.ok(os.path.exists(rec) and owner(rec)[0] == LOCAL, "tern-relayallow recorded the login in relay/")
    subprocess.run(["s6-svscanctl", "-t", os.path.join(home, "service")])
    tap.ok(tern.wait_for(lambda: scan.poll() is not None, 30), "s6-svscan ends")
    tern.wait_for(lambda: not procs(home), 10)
    tap.is_(sorted(procs(home)), [], "no process of the instance is left")

    r = subprocess.run([os.path.join(tern.TOP, "setup", "make-install"), bindir, home],
                       env=dict(os.environ, TERN_SETUP_FLAGS=flags + " -P", MANDIR=mandir), capture_output=True, text=True, timeout=120)
    tap.is_(r.returncode, 0, "make-install again over the installed instance succeeds (now pooled, -P)")
    tap.ok("password" not in r.stdout and "created user" not in r.stdout, "and creates no user or password")
    pooled(home, ports, pw.group(1) if pw else "x", c)


POOL_ROOT = {"s6-svscan", "s6-supervise", "tern-tcpserver"}


def pooled(home, ports, password, c):
    """The same instance with tern-setup -P: ports 25, 587 and 465 served by
    resident tern-tlsd workers (the TLS user, the key) each owning one
    tern-smtpd worker (the SMTP user); the launchers stay root."""
    scan = tern.spawn(["s6-svscan", os.path.join(home, "service")], env={"TERN_HOME": home},
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    up = all(tern.wait_port("127.0.0.1", ports[s], 30) for s in ("smtp", "submission", "smtps"))
    tap.ok(up, "pooled: the services come up")

    def seen():
        x = procs(home)
        # 4 idle pairs kept ready on each of the three pooled ports, all
        # past their start (a tern-tlsd is root until it has read the key,
        # its tern-smtpd until s6-applyuidgid has dropped to the SMTP user;
        # every service's run script, sh and tern-check, runs as root first)
        return x if len([1 for n, _ in x.values() if n == "tern-tlsd"]) >= 12 and \
            len([1 for n, _ in x.values() if n == "tern-smtpd"]) >= 12 and uids_of(x, "tern-tlsd") == [TLS] and not uids_of(x, "s6-applyuidgid") \
            and {n for n, u in x.values() if u == "root"} <= POOL_ROOT else None
    ps = tern.wait_for(seen, 30) or procs(home)
    tap.note("\n".join("%d %s %s" % (p, n, u) for p, (n, u) in sorted(ps.items())))
    tap.ok(len([1 for n, _ in ps.values() if n == "tern-tlsd"]) >= 12, "pooled: resident tern-tlsd workers wait")
    tap.is_(uids_of(ps, "tern-tlsd"), [TLS], "pooled: every resident tern-tlsd worker runs as %s" % TLS)
    tap.is_(uids_of(ps, "tern-smtpd"), [NET], "pooled: every resident tern-smtpd worker runs as %s" % NET)
    parents = {}
    for pid, (n, _) in ps.items():
        if n == "tern-smtpd":
            ppid = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1])
            parents[pid] = ps.get(ppid, ("?", "?"))[0]
    tap.ok(parents and set(parents.values()) == {"tern-tlsd"}, "pooled: each tern-smtpd worker is a tern-tlsd worker's", parents)
    root = sorted({n for n, u in ps.values() if u == "root"})
    tap.ok(set(root) <= POOL_ROOT,
           "pooled: as root only s6 and the listeners (%s)" % ", ".join(root))
    with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=30) as s:
        s.ehlo("client.example")
        s.starttls(context=c)
        s.ehlo("client.example")
        tap.is_(s.sendmail("sender@example.org", ["demo@tern.test"], "Subject: pooled-tls\r\n\r\npooled\r\n"), {},
                "pooled: STARTTLS on port 25 and a message accepted")
    with smtplib.SMTP("127.0.0.1", ports["submission"], timeout=30) as sub:
        sub.ehlo("client.example")
        sub.starttls(context=c)
        sub.ehlo("client.example")
        tap.is_(sub.login("demo@tern.test", password)[0], 235,
                "pooled: submission AUTH across the users: tern-tlsd (%s), tern-smtpd (%s)" % (TLS, NET))
    with smtplib.SMTP_SSL("127.0.0.1", ports["smtps"], context=c, timeout=30) as sub:
        sub.ehlo("client.example")
        tap.is_(sub.login("demo@tern.test", password)[0], 235, "pooled: smtps AUTH")
        tap.is_(sub.sendmail("demo@tern.test", ["demo@tern.test"], "From: demo@tern.test\r\nSubject: s\r\n\r\nx\r\n"), {},
                "pooled: smtps message submitted")
    subprocess.run(["s6-svscanctl", "-t", os.path.join(home, "service")])
    tap.ok(tern.wait_for(lambda: scan.poll() is not None, 30), "pooled: s6-svscan ends")
    tern.wait_for(lambda: not procs(home), 10)
    tap.is_(sorted(procs(home)), [], "pooled: no process of the instance is left")


tap.main(main)
