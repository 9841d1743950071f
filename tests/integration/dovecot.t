#!/usr/bin/env python3
"""Dovecot (Debian's dovecot-imapd) as the IMAP server over the Maildir tern
delivers to, as users pair them: the demo (make run, as root: each service
as its own user) takes mail over SMTP; Dovecot, on 127.0.0.1 on a free port
with a configuration of its own, running mail processes as the Maildir's
owner, shows every message over IMAP (imaplib) with the right size and
content, and takes the demo password from tern's own users file. Flags set
over IMAP leave POP3 UIDLs as they were, and a message delivered after that
is read by both."""
import imaplib
import os
import poplib
import pwd
import shutil
import smtplib
import subprocess

import tap
import tern
from demo import Demo, USER, tls_context

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LOCAL = open(os.path.join(tern.TOP, "conf-users")).read().splitlines()[4].strip()

CONF = """# written by tests/integration/dovecot.t: IMAP on loopback over tern's Maildir
protocols = imap
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={maildir} mail=maildir:{maildir}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def send(d, subject, body):
    with smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=30) as c:
        return c.sendmail("sender@example.org", [USER],
                          "From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\n%s" % (USER, subject, body))


def maildir_files(d):
    """{subject token: file bytes} of every message in the demo Maildir (new/ and cur/)."""
    out = {}
    md = os.path.join(d.home, "mail", "demo", "Maildir")
    for sub in ("new", "cur"):
        for f in os.listdir(os.path.join(md, sub)):
            with open(os.path.join(md, sub, f), "rb") as fh:
                data = fh.read()
            for line in data.split(b"\n"):
                if line.startswith(b"Subject: "):
                    out[line[9:].decode()] = data
                    break
    return out


def start_dovecot(d):
    tmp = tern.tmpdir("tern-dovecot-")
    os.chmod(tmp, 0o755)
    pw = pwd.getpwnam(LOCAL)
    port = tern.free_port()
    maildir = os.path.join(d.home, "mail", "demo", "Maildir")
    # the account as tern knows it: address and crypt(3) hash from the users file
    with open(os.path.join(d.home, "users")) as f:
        line = [l for l in f.read().splitlines() if l.startswith(USER + ":")][0]
    with open(os.path.join(tmp, "passwd"), "w") as f:
        f.write("%s:{CRYPT}%s\n" % (USER, line.split(":")[1]))
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(tmp=tmp, uid=pw.pw_uid, gid=pw.pw_gid, maildir=maildir, port=port))
    p = tern.spawn([DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    up = tern.wait_port("127.0.0.1", port, 30)
    if not up:
        log = os.path.join(tmp, "dovecot.log")
        tap.note(open(log).read() if os.path.exists(log) else "no dovecot.log")
    return p, port, up, tmp


def imap_view(port):
    """{subject: (RFC822.SIZE, body bytes, flags)} of INBOX over IMAP."""
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    m.login(USER, PASSWORD[0])
    m.select("INBOX")
    out = {}
    typ, data = m.search(None, "ALL")
    for num in data[0].split():
        typ, parts = m.fetch(num, "(RFC822.SIZE FLAGS BODY.PEEK[])")
        meta, body = parts[0]
        size = int(meta.split(b"RFC822.SIZE ")[1].split()[0].rstrip(b")"))
        flags = meta.split(b"FLAGS (")[1].split(b")")[0].decode()
        subj = [l for l in body.split(b"\r\n") if l.startswith(b"Subject: ")][0][9:].decode()
        out[subj] = (size, body, flags, num)
    m.logout()
    return out


PASSWORD = [None]


def pop_uidls(d):
    """{uidl: subject} from tern-pop3d, without deleting anything."""
    p = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=30)
    p.stls(tls_context())
    p.user(USER)
    p.pass_(PASSWORD[0])
    out = {}
    for line in p.uidl()[1]:
        n, uid = line.split()
        top = b"\n".join(p.top(int(n), 0)[1])
        subj = [l for l in top.split(b"\n") if l.startswith(b"Subject: ")][0][9:].decode()
        out[uid.decode()] = subj
    p.quit()
    return out


def main():
    if os.geteuid() != 0:
        tap.skip_all("Dovecot runs its mail processes as the Maildir's owner: needs root (the suite runs as root)")
    if not os.access(DOVECOT, os.X_OK):
        subprocess.run([os.path.join(tern.TOP, "deps")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.access(DOVECOT, os.X_OK):
        tap.skip_all("dovecot is not installed and apt-get could not install dovecot-imapd")
    d = Demo().start()
    tap.ok(d.up(), "the demo (make run as root) is up")
    PASSWORD[0] = d.password
    bodies = {"dove-%d" % i: "".join("line %d of message %d\r\n" % (j, i) for j in range(1 + 40 * i)) for i in range(5)}
    bodies["dove-dots"] = ".leading dot\r\n..two\r\n\r\nblank above\r\n"
    for subj, body in sorted(bodies.items()):
        send(d, subj, body)
    tap.ok(tern.wait_for(lambda: set(bodies) <= set(maildir_files(d)), 60), "tern delivered %d messages" % len(bodies))

    p, port, up, tmp = start_dovecot(d)
    tap.ok(up, "dovecot listens on 127.0.0.1:%d with its own configuration" % port)
    if not up:
        return
    before = pop_uidls(d)
    tap.is_(sorted(before.values()), sorted(bodies), "POP3 lists every message (UIDLs taken)")

    view = imap_view(port)
    tap.is_(sorted(view), sorted(bodies), "IMAP shows every delivered message, logging in with the demo password")
    files = maildir_files(d)
    want = {s: len(files[s]) + files[s].count(b"\n") - files[s].count(b"\r\n") for s in bodies}
    tap.is_({s: v[0] for s, v in view.items()}, want, "with the right sizes (RFC822.SIZE: the file with CRLF line ends)")
    tap.is_({s: v[1] for s, v in view.items()}, {s: files[s].replace(b"\n", b"\r\n") for s in bodies},
            "and the right content")
    tap.ok(all(b"Return-Path: <sender@example.org>" in v[1] for v in view.values()), "with tern's delivery headers")

    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    m.login(USER, d.password)
    m.select("INBOX")
    nums = b",".join(view[s][3] for s in ("dove-0", "dove-1", "dove-dots"))
    typ, _ = m.store(nums.decode(), "+FLAGS", "(\\Seen \\Flagged)")
    tap.is_(typ, "OK", "flags set over IMAP (\\Seen \\Flagged on three messages)")
    m.logout()
    flagged = imap_view(port)
    tap.ok(all("\\Flagged" in flagged[s][2] for s in ("dove-0", "dove-1", "dove-dots")), "Dovecot keeps them")
    cur = os.listdir(os.path.join(d.home, "mail", "demo", "Maildir", "cur"))
    tap.ok(sum(1 for f in cur if f.endswith(":2,FS")) >= 3, "in the Maildir file names (:2,FS)", cur)

    after = pop_uidls(d)
    tap.is_(after, before, "POP3 UIDLs are the same after the IMAP flags")

    send(d, "dove-late", "delivered after the flags\r\n")
    tap.ok(tern.wait_for(lambda: "dove-late" in maildir_files(d), 60), "a later message is delivered")
    late = imap_view(port)
    f = maildir_files(d)["dove-late"]
    tap.ok("dove-late" in late and late["dove-late"][0] == len(f) + f.count(b"\n"),
           "IMAP shows it with the right size", late.get("dove-late", (None,))[0])
    p3 = pop_uidls(d)
    tap.ok("dove-late" in p3.values() and {u: s for u, s in p3.items() if s != "dove-late"} == before,
           "POP3 reads it too, the other UIDLs unchanged")
    pop = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=30)
    pop.stls(tls_context())
    pop.user(USER)
    pop.pass_(d.password)
    n = [int(l.split()[0]) for l in pop.uidl()[1] if p3[l.split()[1].decode()] == "dove-late"][0]
    text = b"\n".join(pop.retr(n)[1])
    pop.quit()
    tap.like(text, b"delivered after the flags", "and RETR gives its text")
    with open(os.path.join(tmp, "dovecot.log"), errors="replace") as fh:
        errs = [l for l in fh if "Error" in l or "Panic" in l or "Fatal" in l]
    tap.is_(errs, [], "Dovecot logged no error over tern's Maildir")
    tap.is_(tern.stop(p), 0, "dovecot stops (by PID)")
    tap.is_(d.interrupt(), 0, "the demo stops")


tap.main(main)
