#!/usr/bin/python3
"""DKIM signing (tern-dkimsign before tern-queued or tern-queue, tern-dkimseal, tern-dkimkey)
judged by an outside verifier: Debian's dkimpy (python3-dkim; Ed25519 through
python3-nacl), the public keys served as TXT records by a dnsmasq on
loopback. Messages arrive as a user would send them: over SMTP from a
RELAYCLIENT address, from a stranger, after AUTH on a submission server, and
through tern-inject. Shebang: Debian's python3 is the one that has dkimpy
(a python3 earlier on PATH may not)."""
import os
import re
import smtplib
import socket
import struct
import subprocess
import threading
import time

import dkim
import dns.resolver

import tap
import tern

PW = "correct horse"
RULES = '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n'
DOMAINS = ["example.org", "example.net", "multi.test", "alias.test", "broken.test", "link.test", "junk.test",
           "sub.example.org", "lists.example.net", "far.test"]
DKIMDOMAINS = ["# tests", "example.org:s1", "example.net:e1", ".example.net:e1", "multi.test:r1,e1",
               "alias.test:s1:example.org", "broken.test:gone", "link.test:s1", "junk.test:s1"]


def keytool(home, *args):
    return subprocess.run([tern.prog("tern-dkimkey")] + list(args), env=dict(os.environ, TERN_HOME=home),
                          capture_output=True, text=True, timeout=60)


def record_of(out):
    """(name, joined TXT text) from tern-dkimkey's zone-file line."""
    name = out.split()[0].rstrip(".")
    return name, "".join(re.findall(r'"([^"]*)"', out))


def instance():
    home = tern.make_home({"rcpthosts": DOMAINS, "timeoutsmtpd": "20", "dkimdomains": DKIMDOMAINS,
                           "injectqueue": "tern-dkimsign"})
    tern.make_queue(home)
    records = {}
    for args in (("example.org", "s1"), ("-t", "ed25519", "example.net", "e1"),
                 ("-b", "1024", "multi.test", "r1"), ("-t", "ed25519", "multi.test", "e1")):
        r = keytool(home, *args)
        tap.is_(r.returncode, 0, "tern-dkimkey %s makes a key" % " ".join(args))
        name, text = record_of(r.stdout)
        records[name] = text
    r = keytool(home, "example.org", "s1")
    tap.ok(r.returncode == 100 and "new selector" in r.stderr, "tern-dkimkey never replaces a key (exit 100)")
    r = keytool(home, "-p", "example.org", "s1")
    tap.is_(record_of(r.stdout), ("s1._domainkey.example.org", records["s1._domainkey.example.org"]),
            "tern-dkimkey -p prints the same record again")
    key = os.path.join(home, "dkim/example.org/s1.key")
    tap.is_(oct(os.stat(key).st_mode & 0o777), "0o400", "the key is mode 400")
    for d in ("link.test", "junk.test"):
        os.makedirs(os.path.join(home, "dkim", d), mode=0o700)
    os.symlink("../example.org/s1.key", os.path.join(home, "dkim/link.test/s1.key"))
    with open(os.path.join(home, "dkim/junk.test/s1.key"), "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    tern.add_user(home, "joe@example.org", PW)
    return home, records


def start_dns(records):
    args = []
    for name, text in records.items():
        # a DNS string holds 255 bytes at most: a 2048-bit key takes two
        parts = [text[i:i + 255] for i in range(0, len(text), 255)]
        args.append("--txt-record=%s,%s" % (name, ",".join(parts)))
    _, addr = tern.dnsmasq(args, domains=("example.org", "example.net", "multi.test"))
    ip, port = addr.split(":")
    res = dns.resolver.Resolver(configure=False)
    res.nameservers, res.port, res.lifetime = [ip], int(port), 5

    def dnsfunc(name, timeout=5):
        try:
            ans = res.resolve(name.decode().rstrip("."), "TXT")
        except Exception:
            return None
        return b"".join(b"".join(r.strings) for r in ans)
    return dnsfunc


def wire(m):
    """The message as tern-remote sends it: every line end a CRLF."""
    return re.sub(rb"\r\n|\r|\n", b"\r\n", m)


class World:
    def __init__(self):
        self.home, self.records = instance()
        self.dnsfunc = start_dns(self.records)
        # TERNQUEUE for every client (not only by rule, as tern-setup does
        # it): the filter's own trust check is what is tested. An inherited
        # TERN_AUTHUSER must not count: tern-smtpd sets it only after a login.
        env = {"TERN_HOME": self.home, "TERNQUEUE": tern.prog("tern-dkimsign"), "TERN_AUTHUSER": "inherited"}
        _, self.port25, self.log25 = tern.tcpserver([tern.prog("tern-smtpd")], rules=RULES, env=env)
        _, self.port587, self.log587 = tern.tcpserver(
            [tern.prog("tern-smtpd"), "-s", "-p", tern.prog("tern-checkpassword"), "true"], env=env)

    def verify(self, m, idx=0):
        """dkimpy's verdict; it raises on some failures (a body hash
        mismatch), which are failures too."""
        try:
            return dkim.DKIM(wire(m)).verify(idx=idx, dnsfunc=self.dnsfunc)
        except dkim.DKIMException:
            return False

    def sigs(self, m):
        return [l for l in re.split(rb"\n(?![ \t])", m.split(b"\n\n")[0]) if l.lower().startswith(b"dkim-signature:")]

    def queued(self, qid):
        for q, m, s, r in tern.queued_messages(self.home):
            if q == qid:
                return m
        return None

    def send(self, msg, frm="joe@example.org", to="you@far.test", port=None, source=None, login=False):
        """Sends msg; returns (code, text, queued message or None)."""
        s = smtplib.SMTP("127.0.0.1", port or self.port25, timeout=30,
                         source_address=(source, 0) if source else None)
        s.ehlo("client.test")
        if login:
            s.login("joe@example.org", PW)
        s.mail(frm)
        s.rcpt(to)
        code, text = s.data(msg)
        s.quit()
        m = re.search(rb"queued as ([0-9a-f]{16})", text)
        return code, text, self.queued(m.group(1).decode()) if m and code == 250 else None

    def log(self, which=None):
        with open(which or self.log25, "rb") as f:
            return f.read()


def tags(sig):
    v = re.sub(rb"\s+", b"", sig.split(b":", 1)[1])
    return dict(t.split(b"=", 1) for t in v.split(b";") if b"=" in t)


MSG = (b"From: Joe <joe@example.org>\r\nTo: You <you@far.test>\r\nSubject: dinner\r\n"
       b"Date: Fri, 11 Jul 2003 21:00:37 -0700\r\nMessage-ID: <1@example.org>\r\n\r\nHi.\r\n\r\nWe lost.\r\n")


def signing(w):
    code, _, m = w.send(MSG)
    tap.is_(code, 250, "RELAYCLIENT on port 25: accepted")
    sigs = w.sigs(m or b"")
    tap.is_(len(sigs), 1, "one DKIM-Signature on top of the queued message")
    tap.ok(m and m.lower().startswith(b"dkim-signature:"), "it is the first field (before Received)")
    tap.ok(m and w.verify(m), "dkimpy verifies the rsa-sha256 signature (key from dnsmasq)")
    t = tags(sigs[0]) if sigs else {}
    tap.is_((t.get(b"a"), t.get(b"c"), t.get(b"d"), t.get(b"s")), (b"rsa-sha256", b"relaxed/relaxed", b"example.org", b"s1"),
            "a=rsa-sha256 c=relaxed/relaxed d=example.org s=s1")
    h = t.get(b"h", b"").split(b":")
    tap.is_(h.count(b"from"), 2, "From is oversigned (one From, listed twice)")
    tap.ok(all(x in h for x in (b"to", b"cc", b"subject", b"date", b"message-id", b"reply-to")),
           "h= holds To, Cc, Subject, Date, Message-ID, Reply-To", t.get(b"h"))
    tap.ok(b"l" not in t and abs(int(t.get(b"t", b"0")) - time.time()) < 600, "no l=; t= is now")
    tap.like(w.log(), b"tern-dkimsign: info: id=", "the log says what was signed")
    tap.like(w.log(), b"signed d=example.org s=s1 (relayclient)", "d=, s= and why the client is trusted")
    return m


def tampering(w, m):
    head, body = m.split(b"\n\n", 1)
    tap.ok(not w.verify(m.replace(b"Subject: dinner", b"Subject: dinner!")), "a changed Subject fails")
    tap.ok(not w.verify(head + b"\n\n" + body.replace(b"We lost.", b"We won.")), "a changed body fails")
    tap.ok(not w.verify(head + b"\n\n" + body + b"P.S. wire money\n"), "an appended line fails (no l=)")
    # on top: verifiers take fields bottom-up, so only oversigning (listed
    # once more than present) makes them look at this one. (dkimpy adds a
    # From of its own when verifying, so the From case holds for it anyway;
    # the Subject case shows ours.)
    tap.ok(not w.verify(b"From: ceo@example.org\n" + m), "a second From added on top fails (oversigned)")
    tap.ok(not w.verify(b"Subject: urgent: wire money\n" + m), "a second Subject added on top fails (oversigned)")
    tap.ok(not w.verify(head + b"\nCc: eve@far.test\n\n" + body), "an added Cc fails (oversigned when absent)")
    tap.ok(w.verify(head + b"\nX-Scanned: yes\n\n" + body), "an added unsigned field does not matter")
    tap.ok(w.verify(head + b"\n\n" + body.replace(b"We lost.", b"We  lost.   ") + b"\n\n\n"),
           "relaxed: blank runs, trailing blanks and trailing empty lines do not matter")


def algorithms(w):
    code, _, m = w.send(MSG.replace(b"joe@example.org", b"ann@example.net"))
    t = tags(w.sigs(m)[0]) if m and w.sigs(m) else {}
    tap.ok(code == 250 and t.get(b"a") == b"ed25519-sha256" and w.verify(m), "ed25519-sha256 (RFC 8463) verifies")
    code, _, m = w.send(MSG.replace(b"joe@example.org", b"bob@Lists.Example.NET"))
    t = tags(w.sigs(m)[0]) if m and w.sigs(m) else {}
    tap.ok(t.get(b"d") == b"example.net" and w.verify(m), ".example.net: a subdomain signs as d=example.net")
    code, _, m = w.send(MSG.replace(b"joe@example.org", b"amy@sub.example.org"))
    tap.ok(code == 250 and m is not None and not w.sigs(m), "a subdomain without a rule of its own: not signed")
    tap.like(w.log(), b"not signed: no rule in control/dkimdomains for sub.example.org", "and the log says why")
    code, _, m = w.send(MSG.replace(b"joe@example.org", b"cat@multi.test"))
    sigs = w.sigs(m or b"")
    tap.ok(len(sigs) == 2 and [tags(s)[b"a"] for s in sigs] == [b"rsa-sha256", b"ed25519-sha256"],
           "two selectors on one line: two signatures, in the line's order")
    tap.ok(m and w.verify(m, 0) and w.verify(m, 1), "both verify")
    code, _, m = w.send(MSG.replace(b"joe@example.org", b"dan@alias.test"))
    t = tags(w.sigs(m)[0]) if m and w.sigs(m) else {}
    tap.ok(t.get(b"d") == b"example.org" and w.verify(m), "alias.test:s1:example.org signs with example.org's key")


def trust(w):
    code, _, m = w.send(MSG, source="127.0.0.2")
    tap.is_(code, 250, "a stranger on port 25 (no RELAYCLIENT): accepted")
    tap.ok(m is not None and not w.sigs(m), "but our signature never goes on a stranger's From: example.org"
           " (not even with TERN_AUTHUSER in tern-smtpd's environment)")
    code, _, m = w.send(MSG, port=w.port587, login=True)
    tap.ok(code == 250 and m is not None and w.verify(m), "after AUTH on submission: signed, verifies")
    tap.like(w.log(w.log587), b"signed d=example.org s=s1 (user=joe@example.org)", "the log names the user")
    code, _, m = w.send(b"To: you@far.test\r\nSubject: no author\r\n\r\nhi\r\n")
    tap.ok(code == 250 and m is not None and not w.sigs(m), "no From field: queued, not signed")
    tap.like(w.log(), b"not signed: no author domain", "and the log says why")


def shapes(w):
    fold = b"".join(b"\r\n\tword%d" % i for i in range(80))
    to = b",\r\n ".join(b"u%d@far.test" % i for i in range(60))
    cases = [
        ("long folded headers", b"From: joe@example.org\r\nSubject: long" + fold + b"\r\nTo: " + to + b"\r\n\r\nbody\r\n"),
        ("empty body", b"From: joe@example.org\r\nSubject: empty\r\n\r\n"),
        ("no body and no empty line", b"From: joe@example.org\r\nSubject: headers only\r\n"),
        ("trailing empty lines", b"From: joe@example.org\r\nSubject: t\r\n\r\nhello\r\n\r\n\r\n\r\n"),
        ("8-bit body and blank runs", b"From: joe@example.org\r\nSubject: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9 \t caf\xe9  \r\n \t \r\n\xff\x80\r\n"),
        # (blanks before the colon, RFC 5322's obsolete form, dkimpy refuses
        # to parse: tests/unit/dkim.c has that one)
        ("blanks in header values", b"From:  Joe  <joe@EXAMPLE.org>\r\nSubject:\tspaced   out \r\n\r\nx\r\n"),
    ]
    for name, msg in cases:
        code, _, m = w.send(msg)
        tap.ok(code == 250 and m is not None and len(w.sigs(m)) == 1 and w.verify(m), name + ": signed, verifies")


def inject(w):
    for name, msg in (("LF", b"From: joe@example.org\nSubject: lf\n\nline one\nline two\n"),
                      ("CRLF", b"From: joe@example.org\r\nSubject: crlf\r\n\r\nline one\r\nline two\r\n")):
        before = {q for q, *_ in tern.queued_messages(w.home)}
        r = subprocess.run([tern.prog("tern-inject"), "-f", "joe@example.org", "you@far.test"], input=msg,
                           env=dict(os.environ, TERN_HOME=w.home), capture_output=True, timeout=30)
        new = [m for q, m, *_ in tern.queued_messages(w.home) if q not in before]
        tap.ok(r.returncode == 0 and len(new) == 1 and w.sigs(new[0]) and w.verify(new[0]),
               "tern-inject (%s input) through control/injectqueue: signed, verifies" % name, r.stderr)
        tap.like(r.stderr, b"signed d=example.org s=s1 (user=", "the log names the local user")


def closed_stderr(w):
    """tern-dkimsign run with fd 2 closed (a careless caller): its log line
    must not land in the message, whatever file gets that number."""
    for n, (frm, signed) in enumerate(((b"joe@example.org", True), (b"joe@nokey.test", False))):
        qid = "00000000000000a%d" % n
        mr, mw = os.pipe()
        er, ew = os.pipe()
        p = subprocess.Popen([tern.prog("tern-dkimsign")], stdin=mr, stdout=er, stderr=subprocess.DEVNULL,
                             preexec_fn=lambda: os.close(2),
                             env=dict(os.environ, TERN_HOME=w.home, RELAYCLIENT="", TERN_QUEUEID=qid))
        os.close(mr)
        os.close(er)
        os.write(mw, MSG.replace(b"\r\n", b"\n").replace(b"joe@example.org", frm))
        os.close(mw)
        os.write(ew, b"Fjoe@example.org\0Tyou@far.test\0\0")
        os.close(ew)
        tap.is_(p.wait(timeout=30), 0, "fd 2 closed, From %s: queued" % frm.decode())
        m = w.queued(qid) or b""
        tap.ok(b"tern-dkimsign" not in m and m.startswith(b"From: ") != signed and (not signed or w.verify(m)),
               "no log line inside the message (%s)" % ("signed" if signed else "not signed"), m[:300])


def start_writer(w):
    """tern-queued -v on the instance: its log names each ID it commits."""
    sock = os.path.join(w.home, "queued", "socket")
    os.makedirs(os.path.dirname(sock), exist_ok=True)
    log = os.path.join(w.home, "queued.log")
    with open(log, "ab") as lf:
        p = tern.spawn([tern.prog("tern-queued"), "-v", "-p", "1"], env=dict(os.environ, TERN_HOME=w.home), stderr=lf)
    tern.wait_for(lambda: os.path.exists(sock), 10)
    return p, sock, log


def committed(log):
    with open(log, "rb") as f:
        return re.findall(rb"committed ([0-9a-f]{16})", f.read())


def writer(w):
    """tern-dkimsign hands the message to the resident queue writer when its
    socket answers: no tern-queue process. What tern-smtpd proposed is the
    ID the writer commits (its -v log names it)."""
    p, sock, log = start_writer(w)
    code, text, m = w.send(MSG, port=w.port587, login=True)
    qid = (re.search(rb"queued as ([0-9a-f]{16})", text) or re.search(b"(.*)", b"")).group(1)
    tap.ok(code == 250 and m is not None and w.verify(m), "tern-queued up: AUTH submission signed, verifies")
    tap.ok(tern.wait_for(lambda: qid in committed(log), 10), "written by tern-queued under the ID of the 250", qid)
    tap.like(w.log(w.log587), b"signed d=example.org s=s1 (user=joe@example.org)", "the log still names the user")
    for what, msg, kw, signed in (
            ("RELAYCLIENT", MSG, {}, True),
            ("a stranger (copied to the writer unparsed)", MSG, {"source": "127.0.0.2"}, False),
            ("no rule for the From domain", MSG.replace(b"joe@example.org", b"joe@nokey.test"), {}, False),
            ("no From field", b"To: you@far.test\r\nSubject: no author\r\n\r\nhi\r\n", {}, False)):
        code, text, m = w.send(msg, **kw)
        qid = re.search(rb"queued as ([0-9a-f]{16})", text)
        tap.ok(code == 250 and m is not None and bool(w.sigs(m)) == signed and (not signed or w.verify(m))
               and tern.wait_for(lambda: qid.group(1) in committed(log), 10),
               "%s: %s, through tern-queued" % (what, "signed" if signed else "not signed"), (code, text))
    n = len(committed(log))
    r = subprocess.run([tern.prog("tern-inject"), "-f", "joe@example.org", "you@far.test"],
                       input=b"From: joe@example.org\nSubject: injected\n\nhi\n",
                       env=dict(os.environ, TERN_HOME=w.home), capture_output=True, timeout=30)
    new = committed(log)[n:]
    tap.ok(r.returncode == 0 and not new and b"signed d=example.org" in r.stderr,
           "tern-inject (no proposed ID; even a user the writer lets in): signed, queued by tern-queue", r.stderr)
    direct(w, log)
    tern.stop(p)
    tap.ok(not os.path.exists(sock), "tern-queued stopped: its socket is gone")
    n = len(committed(log))
    code, _, m = w.send(MSG, port=w.port587, login=True)
    tap.ok(code == 250 and m is not None and w.verify(m) and len(committed(log)) == n,
           "no socket: signed and queued by tern-queue, as before")
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(sock)
    code, _, m = w.send(MSG, port=w.port587, login=True)
    tap.ok(code == 250 and m is not None and w.verify(m), "a stale socket nobody listens on: tern-queue")
    os.unlink(sock)
    fakes(w, sock)


def direct(w, log):
    """tern-dkimsign run as tern-smtpd runs it, with a fresh proposed ID:
    the envelope is checked before the writer commits (as tern-queue checks
    it, with its exit codes) and by the writer again."""
    for what, env, want in (("a good envelope", b"Fjoe@example.org\0Tyou@far.test\0\0", 0),
                            ("a malformed envelope", b"Fjoe@example.org\0Xyou@far.test\0\0", 91),
                            ("an envelope cut short", b"Fjoe@example.org\0Tyou@far.test\0", 54),
                            ("no recipient", b"Fjoe@example.org\0\0", 91)):
        n, q = len(committed(log)), len(tern.queued_messages(w.home))
        qid = "%08x%s" % (int(time.time()), os.urandom(4).hex())
        mr, mw = os.pipe()
        er, ew = os.pipe()
        p = subprocess.Popen([tern.prog("tern-dkimsign")], stdin=mr, stdout=er, stderr=subprocess.PIPE,
                             env=dict(os.environ, TERN_HOME=w.home, RELAYCLIENT="", TERN_QUEUEID=qid))
        os.close(mr)
        os.close(er)
        os.write(mw, MSG.replace(b"\r\n", b"\n"))
        os.close(mw)
        os.write(ew, env)
        os.close(ew)
        err = p.stderr.read()
        if want:
            tap.ok(p.wait(timeout=30) == want and len(committed(log)) == n and len(tern.queued_messages(w.home)) == q,
                   "%s: exit %d as from tern-queue, nothing queued" % (what, want), (p.returncode, err))
        else:
            tap.ok(p.wait(timeout=30) == 0 and committed(log)[n:] == [qid.encode()] and w.verify(w.queued(qid) or b""),
                   "%s: exit 0, committed by tern-queued under the proposed ID, signed" % what, (p.returncode, err))


def fake_writer(sock, mode):
    """A stand-in for tern-queued on sock, for one client: 'close' (what
    tern-queued does to a uid it does not allow), 'busy', 'drop' (gone
    after its 'R'), or an exit code to answer after the envelope."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(1)

    def run():
        c, _ = srv.accept()
        c.settimeout(30)
        try:
            if mode == "close":
                return
            if mode == "busy":
                c.sendall(b"B\0\0\0\0")
                return
            c.sendall(b"R\0\0\0\0")
            if mode == "drop":
                return
            buf, env = b"", b""
            while not env.endswith(b"\0\0"):
                while len(buf) < 5:
                    buf += c.recv(65536)
                t, n = buf[:1], struct.unpack(">I", buf[1:5])[0]
                while len(buf) < 5 + n:
                    buf += c.recv(65536)
                if t == b"E":
                    env += buf[5:5 + n]
                buf = buf[5 + n:]
            c.sendall(b"C\0\0\0\1" + bytes([mode]))
        finally:
            c.close()
            srv.close()
            os.unlink(sock)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def fakes(w, sock):
    for mode, what in (("close", "a writer that refuses our uid"), ("busy", "a busy writer")):
        th = fake_writer(sock, mode)
        code, _, m = w.send(MSG, port=w.port587, login=True)
        th.join(30)
        tap.ok(not th.is_alive() and code == 250 and m is not None and w.verify(m),
               "%s: asked, then signed and queued by tern-queue" % what)
    for mode, want, what in (("drop", b"451 4.3.0", "a writer gone after its 'R'"),
                             (53, b"451 4.3.1", "a writer that answers 53 (disk full)"),
                             (31, b"554 5.3.0", "a writer that answers 31 (refused)")):
        th = fake_writer(sock, mode)
        n = len(tern.queued_messages(w.home))
        code, text, _ = w.send(MSG, port=w.port587, login=True)
        th.join(30)
        tap.ok(not th.is_alive() and text.startswith(want[4:]) and code == int(want[:3]) and len(tern.queued_messages(w.home)) == n,
               "%s: %s, nothing queued (the code is passed on)" % (what, want.decode()), (code, text))


def failures(w):
    for dom, what in (("broken.test", "the key is missing"), ("link.test", "the key is a symlink"),
                      ("junk.test", "the key is not a key")):
        n = len(tern.queued_messages(w.home))
        code, text, _ = w.send(MSG.replace(b"joe@example.org", b"eve@" + dom.encode()))
        tap.ok(code == 451 and b"4.3.5" in text, "%s: 451 4.3.5, never an unsigned 250" % what, (code, text))
        tap.is_(len(tern.queued_messages(w.home)), n, "%s: nothing queued" % what)
    tap.like(w.log(), b"tern-dkimseal: fatal: unable to open dkim/broken.test/gone.key", "the log says which key")
    ctl = os.path.join(w.home, "control")
    with open(os.path.join(ctl, "dkimheaderbytes"), "w") as f:
        f.write("400\n")
    code, text, _ = w.send(MSG.replace(b"Subject: dinner", b"Subject: " + b"x" * 400))
    tap.is_(code, 554, "a header section over control/dkimheaderbytes: refused (554)")
    code, _, m = w.send(MSG)
    tap.ok(code == 250 and m and w.verify(m), "one under it: signed")
    os.unlink(os.path.join(ctl, "dkimheaderbytes"))
    with open(os.path.join(ctl, "dkimdomains"), "a") as f:
        f.write("bad line\n")
    code, _, _ = w.send(MSG)
    tap.is_(code, 451, "a malformed control/dkimdomains: trusted mail waits (451)")
    tap.like(w.log(), b"control/dkimdomains: bad line: bad line", "and the log shows the line")
    code, _, _ = w.send(MSG, source="127.0.0.2")
    tap.is_(code, 250, "a stranger's mail is not held up by it (never read)")


def main():
    w = World()
    m = signing(w)
    if m:
        tampering(w, m)
    algorithms(w)
    trust(w)
    shapes(w)
    inject(w)
    closed_stderr(w)
    writer(w)
    failures(w)


tap.main(main)
