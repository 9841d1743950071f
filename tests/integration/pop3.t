#!/usr/bin/env python3
"""tern-pop3d against a Maildir, with poplib and raw sockets: login, list,
uidl, retr, top, dele+quit, dele+drop, rset, limits, pipelining."""
import os
import poplib
import socket
import subprocess
import sys
import time

import tap
import tern

CHECKPW = r'''#!/usr/bin/env python3
# A test checkpassword: one user, alice, password "secret".
import os, sys
with os.fdopen(3, "rb") as f:
    data = f.read(1024)
p = data.split(b"\0")
if len(p) >= 3 and p[0] == b"alice" and p[1] == b"secret":
    os.environ["USER"] = "alice"
    os.environ["HOME"] = sys.argv[1]
    os.execvp(sys.argv[2], sys.argv[2:])
sys.exit(1)
'''

MESSAGES = [
    # (directory, name, mtime, text)
    ("cur", "1700000001.M1P1.host:2,S", 1700000001, b"Subject: one\n\nfirst body\n.leading dot\n"),
    ("new", "1700000002.M2P2.host", 1700000002, b"Subject: two\nX-A: b\n\nl1\nl2\nl3\nl4\n"),
    ("new", "1700000003.M3P3.host", 1700000003, b"Subject: three\r\n\r\ncrlf body\r\n"),
    ("new", "1700000004.M4P4.host", 1700000004, b"Subject: four\n\nno final newline"),
]


def pop_size(text):
    """The size POP3 must report: CR LF line ends, a final line end."""
    t = text.replace(b"\r\n", b"\n")
    if not t.endswith(b"\n"):
        t += b"\n"
    return len(t.replace(b"\n", b"\r\n"))


def make_box(home):
    md = os.path.join(home, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    for d, name, t, text in MESSAGES:
        path = os.path.join(md, d, name)
        with open(path, "wb") as f:
            f.write(text)
        os.utime(path, (t, t))
    return md


def files(md):
    return sorted(os.listdir(os.path.join(md, "cur"))), sorted(os.listdir(os.path.join(md, "new")))


def server(tmp, home, opts=(), mopts=()):
    cp = os.path.join(tmp, "checkpw")
    if not os.path.exists(cp):
        with open(cp, "w") as f:
            f.write(CHECKPW)
        os.chmod(cp, 0o755)
    chain = [tern.prog("tern-pop3d")] + list(opts) + [cp, home, tern.prog("tern-pop3d"), "-m"] + list(mopts)
    return tern.tcpserver(chain, env={"TERN_HOME": home})


def login(port, user="alice", pw="secret"):
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.user(user)
    p.pass_(pw)
    return p


def raw(port, data, wait_close=True):
    """Sends data at once, returns everything the server says until it closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.recv(4096)
    s.sendall(data)
    out = b""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        out += b
        if not wait_close and out.endswith(b"\r\n"):
            break
    s.close()
    return out


def test_session(port, md, log):
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    tap.like(p.getwelcome(), b"+OK", "greeting")
    tap.ok(p.getwelcome().rstrip().endswith(b">") and b"<" in p.getwelcome(), "greeting carries a <timestamp>")
    caps = p.capa()
    tap.ok("USER" in caps and "TOP" in caps and "UIDL" in caps and "STLS" not in caps,
           "CAPA before login: USER (allowed by -P), TOP, UIDL; no STLS without tern-tlsd", caps)
    p.user("alice")
    try:
        p.pass_("wrong")
        tap.ok(False, "wrong password refused")
    except poplib.error_proto as e:
        tap.like(str(e), "-ERR [AUTH]", "wrong password refused with [AUTH]")
    p.user("alice")
    tap.like(p.pass_("secret"), b"+OK", "good password after a bad one")
    tap.is_(files(md)[1], [], "new/ emptied at login")
    tap.ok("1700000002.M2P2.host,W=%d:2," % pop_size(MESSAGES[1][3]) in files(md)[0],
           "moved to cur/ as NAME,W=SIZE:2,", files(md)[0])
    tap.is_(len(files(md)[0]), 4, "all four in cur/")
    count, size = p.stat()
    tap.is_(count, 4, "STAT count")
    tap.is_(size, sum(pop_size(m[3]) for m in MESSAGES), "STAT size is the CR LF size of all")
    resp, lines, _ = p.list()
    want = [("%d %d" % (i + 1, pop_size(m[3]))).encode() for i, m in enumerate(MESSAGES)]
    tap.is_(lines, want, "LIST: oldest first, CR LF sizes")
    resp, uids, _ = p.uidl()
    want = [("%d %s" % (i + 1, m[1].split(":")[0] + ("" if m[0] == "cur" else ",W=%d" % pop_size(m[3])))).encode()
            for i, m in enumerate(MESSAGES)]
    tap.is_(uids, want, "UIDL: the Maildir base names (with ,W=SIZE added on the move from new/)")
    tap.like(p.uidl(2), b"1700000002.M2P2.host,W=", "UIDL n")
    resp, body, octets = p.retr(1)
    tap.is_(body, [b"Subject: one", b"", b"first body", b".leading dot"], "RETR 1: lines, dot unstuffed")
    tap.is_(octets, pop_size(MESSAGES[0][3]), "RETR 1: octets match LIST (poplib does not count the stuffed dot)")
    tap.like(resp, b"+OK %d octets" % pop_size(MESSAGES[0][3]), "RETR reply gives the size")
    resp, body, _ = p.retr(4)
    tap.is_(body, [b"Subject: four", b"", b"no final newline"], "RETR of a message without a final newline")
    resp, body, _ = p.top(2, 2)
    tap.is_(body, [b"Subject: two", b"X-A: b", b"", b"l1", b"l2"], "TOP 2 2: header and two body lines")
    resp, body, _ = p.top(3, 0)
    tap.is_(body, [b"Subject: three", b""], "TOP 3 0: header only")
    tap.like(p.dele(2), b"+OK", "DELE 2")
    for cmd in (lambda: p.retr(2), lambda: p.dele(2), lambda: p.list(2)):
        try:
            cmd()
            tap.ok(False, "a deleted message is gone for the session")
        except poplib.error_proto:
            tap.ok(True, "a deleted message is gone for the session")
    tap.is_(p.stat()[0], 3, "STAT after DELE")
    for bad in (b"RETR 0", b"RETR 5", b"RETR x", b"RETR -1", b"TOP 1", b"TOP 1 x", b"DELE", b"XYZZY"):
        try:
            p._shortcmd(bad.decode())
            tap.ok(False, "%s refused" % bad.decode())
        except poplib.error_proto as e:
            tap.like(str(e), "-ERR", "%s refused" % bad.decode())
    p.noop()
    tap.like(p.quit(), b"+OK", "QUIT")
    cur = files(md)[0]
    tap.ok(not any(n.startswith("1700000002.") for n in cur) and len(cur) == 3,
           "the deleted message is removed at QUIT, the others stay", cur)


def session_ended(log, sock):
    """A function that tells when tern-tcpserver's log (-v) shows the end of
    the session of the client socket sock: "ok PID ... :PORT", then "end PID"."""
    port = ":%d\n" % sock.getsockname()[1]

    def ended():
        with open(log) as f:
            text = f.read()
        pids = [l.split()[2] for l in text.splitlines(True) if l.startswith("tern-tcpserver: ok ") and l.endswith(port)]
        return pids and ("tern-tcpserver: end %s " % pids[0]) in text
    return ended


def test_drop_and_rset(port, md, log):
    before = files(md)
    p = login(port)
    p.dele(1)
    p.dele(2)
    ended = session_ended(log, p.sock)
    # dropped connection, no QUIT (poplib's file object holds the socket
    # open: both must go for the connection to close)
    p.file.close()
    p.sock.close()
    tap.ok(tern.wait_for(ended), "the dropped session ends")
    tap.is_(files(md), before, "DELE then drop: nothing deleted")
    p = login(port)
    p.dele(1)
    p.rset()
    tap.is_(p.stat()[0], 3, "RSET undoes DELE")
    p.quit()
    tap.is_(files(md), before, "RSET then QUIT: nothing deleted")
    p = login(port)
    u1 = p.uidl()[1]
    p.quit()
    p = login(port)
    tap.is_(p.uidl()[1], u1, "UIDL stable across sessions")
    p.quit()


def test_pipelining(port, md):
    out = raw(port, b"USER alice\r\nPASS secret\r\nSTAT\r\nLIST 1\r\nNOOP\r\nQUIT\r\n")
    lines = out.split(b"\r\n")
    tap.ok(len(lines) >= 6 and lines[0] == b"+OK send PASS" and lines[1].startswith(b"+OK")
           and lines[2].startswith(b"+OK 3 ") and lines[3].startswith(b"+OK 1 ") and lines[4] == b"+OK"
           and lines[5].startswith(b"+OK"),
           "commands pipelined behind PASS reach the mailbox part in order", out)


def test_mailbox_errors(port):
    out = raw(port, b"USER alice\r\nPASS secret\r\n" + b"RETR\r\n" * 15)
    tap.ok(out.count(b"-ERR") == 11 and out.endswith(b"-ERR too many errors\r\n"),
           "mailbox part: ten bad commands, then hang up, the last reply intact", out)


def test_limits(port, home):
    out = raw(port, b"USER " + b"a" * 300 + b"\r\nQUIT\r\n")
    tap.like(out, b"-ERR line too long", "overlong line refused")
    tap.like(out, b"+OK bye", "the session goes on after an overlong line")
    out = raw(port, b"USER al\x00ice\r\nQUIT\r\n")
    tap.like(out, b"-ERR bad characters", "NUL in a command refused")
    out = raw(port, b"NOOP\r\n" * 15)
    tap.is_(out.count(b"-ERR"), 11, "ten errors, then hang up (NOOP is not allowed before login)")
    tap.like(out, b"-ERR too many errors", "too many errors said")
    out = raw(port, b"PASS secret\r\nQUIT\r\n")
    tap.like(out, b"-ERR USER first", "PASS without USER refused")
    out = raw(port, b"USER alice\r\nPASS x\r\nUSER alice\r\nPASS y\r\nUSER alice\r\nPASS z\r\nUSER alice\r\n")
    tap.ok(out.count(b"-ERR [AUTH]") == 3 and out.endswith(b"-ERR too many failed logins\r\n"),
           "three failed logins, then hang up", out)


def test_plaintext_refused(tmp, home):
    srv, port, log = server(tmp, home)
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    tap.ok("USER" not in p.capa(), "without -P and TLS: USER not in CAPA")
    try:
        p.user("alice")
        tap.ok(False, "USER refused without TLS")
    except poplib.error_proto as e:
        tap.like(str(e), "STLS", "USER refused without TLS, pointing to STLS")
    try:
        p.pass_("secret")
        tap.ok(False, "PASS refused without TLS")
    except poplib.error_proto as e:
        tap.like(str(e), "need TLS", "PASS refused without TLS")
    p.quit()
    tern.stop(srv)


def test_timeout(tmp, home):
    srv, port, log = server(tmp, home, opts=("-P", "-d", "1", "-t", "1"), mopts=("-t", "1"))
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.user("alice")
    t0 = time.monotonic()
    err = None
    try:
        p.pass_("wrong")
    except poplib.error_proto as e:
        err = str(e)
    took = time.monotonic() - t0
    tap.ok(took >= 0.9 and "[AUTH]" in (err or ""), "-d 1: a failed login is answered after a second",
           "took %.2f s, answer %r" % (took, err))
    p.close()
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    out = s.recv(4096)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        b = s.recv(4096)
        if not b:
            break
        out += b
    tap.like(out, b"-ERR autologout", "idle client logged out (auth part)")
    s.close()
    p = login(port)
    p.dele(1)
    s = p.sock
    s.settimeout(20)
    out = b""
    while time.monotonic() < end + 20:
        b = s.recv(4096)
        if not b:
            break
        out += b
    tap.like(out, b"-ERR autologout", "idle client logged out (mailbox part)")
    tern.stop(srv)
    return out


def test_knobs(tmp, home):
    srv, port, log = server(tmp, home, opts=("-P", "-d", "0", "-l", "32"), mopts=("-n", "2", "-l", "32"))
    out = raw(port, b"USER " + b"a" * 26 + b"\r\nQUIT\r\n")
    tap.like(out, b"-ERR line too long", "-l 32: a 33-octet line is too long")
    out = raw(port, b"USER " + b"a" * 25 + b"\r\nQUIT\r\n")
    tap.like(out, b"+OK send PASS", "-l 32: a 32-octet line is fine")
    p = login(port)
    tap.is_(p.stat()[0], 2, "-m -n 2: two messages listed")
    tap.is_(len(p.list()[1]), 2, "-m -n 2: LIST shows two")
    p.quit()
    tern.stop(srv)
    r = subprocess.run([tern.prog("tern-pop3d"), "-l", "8", "x"], capture_output=True, timeout=20)
    tap.ok(r.returncode == 100 and b"usage" in r.stderr, "-l below 16: usage error, exit 100")
    r = subprocess.run([tern.prog("tern-pop3d")], capture_output=True, timeout=20)
    tap.is_(r.returncode, 100, "no checkpassword program: exit 100")


def test_no_maildir(tmp):
    home = tern.make_home()
    srv, port, log = server(tmp, home, opts=("-P", "-d", "0"))
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.user("alice")
    try:
        p.pass_("secret")
        tap.ok(False, "missing Maildir: temporary error")
    except poplib.error_proto as e:
        tap.like(str(e), "-ERR [SYS/TEMP]", "missing Maildir: the PASS gets a temporary error")
    p.quit()
    tern.stop(srv)
    with open(log, "rb") as f:
        tap.like(f.read(), b"tern-pop3d: fatal: unable to chdir", "missing Maildir: logged")


def test_garbage(tmp, home, md):
    """Random bytes, bounded: the server answers or hangs up, never dies, and
    the Maildir is untouched (nothing but QUIT deletes)."""
    import random
    rnd = random.Random(1939)
    before = files(md)
    srv, port, log = server(tmp, home, opts=("-P", "-d", "0", "-e", "1000", "-t", "5"), mopts=("-e", "1000", "-t", "5"))
    alphabet = b"\x00\r\n .:0123456789 USERPASLITOPDEQRNCAuserpass\xff\x7f"
    for session in range(12):
        lines = []
        for _ in range(60):
            n = rnd.choice((0, 1, 5, 20, 300))
            lines.append(bytes(rnd.choice(alphabet) for _ in range(n)))
        lines = [l.replace(b"QUIT", b"QUIX").replace(b"quit", b"quix") for l in lines]
        login = b"USER alice\r\nPASS secret\r\n" if session % 2 else b""
        out = raw(port, login + b"\r\n".join(lines) + b"\r\nQUIT\r\n")
        replies = [l for l in out.split(b"\r\n") if l.startswith((b"+OK", b"-ERR"))]
        tap.ok(len(replies) >= 3 and out.endswith(b"\r\n"), "garbage session %d: %d replies, then the end" % (session, len(replies)), out[-300:])
    tern.stop(srv)
    with open(log, "rb") as f:
        text = f.read().decode(errors="replace")
    ends = [l for l in text.splitlines() if " end " in l]
    tap.ok(ends and all(l.endswith("status 0") for l in ends), "garbage: every session exited 0", ends)
    tap.is_(files(md), before, "garbage: the Maildir is untouched")


def main():
    if not hasattr(tern, "tcpserver"):
        tap.skip_all("tern.tcpserver() not on main yet")
    tmp = tern.tmpdir()
    home = tern.make_home()
    md = make_box(home)
    srv, port, log = server(tmp, home, opts=("-P", "-d", "0"))
    test_session(port, md, log)
    test_drop_and_rset(port, md, log)
    test_pipelining(port, md)
    test_limits(port, home)
    test_mailbox_errors(port)
    tern.stop(srv)
    with open(log, "rb") as f:
        text = f.read()
    tap.like(text, b"tern-pop3d: info: login failed for alice", "failed login logged")
    tap.like(text, b"retrieved", "logout logged")
    test_garbage(tmp, home, md)
    test_plaintext_refused(tmp, home)
    test_no_maildir(tmp)
    test_knobs(tmp, home)
    before = files(md)
    test_timeout(tmp, home)
    tap.is_(files(md), before, "timeout after DELE: nothing deleted")


tap.main(main)
