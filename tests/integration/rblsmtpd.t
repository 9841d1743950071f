#!/usr/bin/env python3
"""tern-rblsmtpd against dnsmasq on loopback: listed, unlisted, allowlisted
clients, RBLSMTPD, -b/-B, -c/-C, IPv6, the blocked dialogue and its limits."""
import os
import smtplib
import socket
import subprocess
import time

import tap
import tern
from slowdns import SlowDNS

RBL = tern.prog("tern-rblsmtpd")
V6 = "2001:db8::2"


def nibbles(ip6):
    b = socket.inet_pton(socket.AF_INET6, ip6)
    return ".".join("%x.%x" % (c & 15, c >> 4) for c in reversed(b))


class Next:
    """A next program that leaves a trace: it writes a file and greets."""

    def __init__(self):
        self.dir = tern.tmpdir()
        self.mark = os.path.join(self.dir, "reached")
        self.argv = ["sh", "-c", 'echo "$1" > "$0"; printf "220 next program\\r\\n"', self.mark, "args-kept"]

    def reached(self):
        if not os.path.exists(self.mark):
            return None
        with open(self.mark) as f:
            data = f.read().strip()
        os.unlink(self.mark)
        return data


def run(opts, env, data=b"EHLO client.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nQUIT\r\n", nxt=None):
    """Runs tern-rblsmtpd on pipes; returns (stdout, stderr, rc, seconds, reached)."""
    nxt = nxt or Next()
    e = {k: v for k, v in os.environ.items() if k not in ("RBLSMTPD", "TCPREMOTEIP")}
    e.update(env)
    t0 = time.monotonic()
    p = subprocess.run([RBL] + opts + nxt.argv, input=data, capture_output=True, env=e, timeout=30)
    return p.stdout.decode(), p.stderr.decode(), p.returncode, time.monotonic() - t0, nxt.reached()


def log_line(err):
    lines = [l for l in err.splitlines() if l.startswith("tern-rblsmtpd: info: ")]
    return lines[0] if len(lines) == 1 else "(%d log lines) %r" % (len(lines), err)


def silent_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, "127.0.0.1:%d" % s.getsockname()[1]


def basics(dns):
    env = {"TERN_DNS": dns, "TCPREMOTEIP": "127.0.0.2"}
    out, err, rc, _, reached = run(["-r", "bl.test"], env)
    tap.ok(out.startswith("220 rblsmtpd.local"), "listed client gets a greeting", out)
    tap.like(out, "451 4.7.1 Listed in bl.test: see http://bl.test/127.0.0.2\r\n", "MAIL/RCPT refused with the list's TXT text")
    tap.is_(out.count("451 4.7.1"), 3, "MAIL, RCPT and DATA each refused")
    tap.like(out, "250 rblsmtpd.local\r\n", "EHLO answered")
    tap.ok(out.endswith("221 2.0.0 rblsmtpd.local closing connection\r\n"), "221 to QUIT")
    tap.is_(reached, None, "listed client never reaches the next program")
    tap.is_(rc, 0, "exit 0 after the dialogue")
    tap.like(log_line(err), "block ip=127.0.0.2 code=451 list=bl.test ms=", "one log line: block, IP, code, list, time")
    tap.like(log_line(err), "reason=Listed in bl.test", "log line has the reason")

    out, err, rc, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP="127.0.0.3"))
    tap.is_(reached, "args-kept", "unlisted client reaches the next program with its arguments")
    tap.is_(out, "220 next program\r\n", "the next program talks to the client")
    tap.like(log_line(err), "pass ip=127.0.0.3 code=- list=- ms=", "pass logged")
    tap.like(log_line(err), "reason=not listed", "pass reason")

    out, err, rc, _, reached = run(["-a", "al.test", "-r", "bl.test"], env)
    tap.is_(reached, "args-kept", "allowlisted client passes although listed")
    tap.like(log_line(err), "pass ip=127.0.0.2 code=- list=al.test", "allowlist named in the log")

    out, err, rc, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP="127.0.0.4"))
    tap.like(out, "451 4.7.1 your address 127.0.0.4 is listed in bl.test\r\n", "A record without TXT: default text naming the list")
    tap.is_(reached, None, "A-only listing blocks")
    out, err, rc, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP="127.0.0.5"))
    tap.like(out, "451 4.7.1 TXT only\r\n", "TXT record without A blocks with its text")

    out, err, rc, _, reached = run(["-r", "ok.test", "-r", "bl.test", "-r", "bl2.test"], env)
    tap.like(out, "451 4.7.1 Listed in bl.test", "several lists: the first listing one gives the text")
    tap.like(log_line(err), "list=bl.test", "and is logged")


def codes(dns):
    env = {"TERN_DNS": dns, "TCPREMOTEIP": "127.0.0.2"}
    out, _, _, _, _ = run(["-b", "-r", "bl.test"], env)
    tap.like(out, "553 5.7.1 Listed in bl.test", "-b gives 553")
    tap.ok("451" not in out, "and no 451")
    out, _, _, _, _ = run(["-b", "-B", "-r", "bl.test"], env)
    tap.like(out, "451 4.7.1 Listed in bl.test", "-B (last wins) gives 451")

    out, err, _, _, reached = run(["-c", "-r", "bl.test"], dict(env, RBLSMTPD=""))
    tap.is_(reached, "args-kept", "RBLSMTPD empty: passes though listed")
    tap.like(log_line(err), "reason=RBLSMTPD is empty", "skip logged")
    out, err, _, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP="127.0.0.3", RBLSMTPD="Go away, spammer"))
    tap.like(out, "451 4.7.1 Go away, spammer\r\n", "RBLSMTPD text blocks with it (451)")
    tap.is_(reached, None, "RBLSMTPD-blocked client does not reach the next program")
    out, err, _, _, reached = run(["-B", "-r", "bl.test"], dict(env, TCPREMOTEIP="127.0.0.3", RBLSMTPD="-No mail from you"))
    tap.like(out, "553 5.7.1 No mail from you\r\n", "RBLSMTPD with leading '-' gives 553")
    tap.like(log_line(err), "block ip=127.0.0.3 code=553 list=-", "logged as a local block")
    out, _, _, _, _ = run([], dict(env, RBLSMTPD="bad\x01text"))
    tap.like(out, "451 4.7.1 bad?text\r\n", "control bytes in RBLSMTPD are neutralised")


def ipv6_and_odd(dns):
    env = {"TERN_DNS": dns}
    out, err, _, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP=V6))
    tap.like(out, "451 4.7.1 IPv6 listed\r\n", "IPv6 client looked up by reversed nibbles")
    tap.like(log_line(err), "block ip=%s" % V6, "IPv6 address logged")
    out, err, _, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP="2001:db8::3"))
    tap.is_(reached, "args-kept", "unlisted IPv6 client passes")
    out, _, _, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP="::ffff:127.0.0.2"))
    tap.like(out, "451 4.7.1 Listed in bl.test", "v4-mapped address looked up as IPv4")

    out, err, _, _, reached = run(["-r", "bl.test"], dict(env, TCPREMOTEIP="127.0.0.7"))
    tap.is_(reached, "args-kept", "A record 127.255.255.254 (list error code) does not list; -C passes")
    tap.like(log_line(err), "list=bl.test", "the failing list is named")
    out, _, _, _, reached = run(["-c", "-b", "-r", "bl.test"], dict(env, TCPREMOTEIP="127.0.0.7"))
    tap.like(out, "451 4.7.1 temporary DNS failure checking bl.test", "-c: a list error code blocks temporarily, 451 even with -b")

    out, err, _, _, reached = run(["-r", "bl.test"], {"TERN_DNS": dns})
    tap.is_(reached, "args-kept", "TCPREMOTEIP unset: -C passes")
    tap.like(log_line(err), "TCPREMOTEIP unset", "and says why")
    out, _, _, _, reached = run(["-c", "-r", "bl.test"], {"TERN_DNS": dns, "TCPREMOTEIP": "not-an-ip"})
    tap.like(out, "451 4.7.1 cannot check your address", "bad TCPREMOTEIP with -c: 451")

    p = subprocess.run([RBL, "-r", "bl.test"], capture_output=True, timeout=10)
    tap.is_(p.returncode, 100, "no program to run: usage, exit 100")
    p = subprocess.run([RBL, "-t", "x", "true"], capture_output=True, timeout=10)
    tap.is_(p.returncode, 100, "bad -t: usage, exit 100")


def dead_server():
    sock, addr = silent_udp()
    env = {"TERN_DNS": addr, "TCPREMOTEIP": "127.0.0.2"}
    nxt = Next()
    procs = []
    for opts in (["-t", "2", "-r", "bl.test"], ["-t", "2", "-c", "-b", "-r", "bl.test"]):
        n = Next()
        e = dict(os.environ, **env)
        e.pop("RBLSMTPD", None)
        procs.append((subprocess.Popen([RBL] + opts + n.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=e), n, time.monotonic()))
    res = []
    for p, n, t0 in procs:
        out, err = p.communicate(b"MAIL FROM:<a@x.test>\r\nQUIT\r\n", timeout=30)
        res.append((out.decode(), err.decode(), time.monotonic() - t0, n.reached()))
    out, err, secs, reached = res[0]
    tap.is_(reached, "args-kept", "DNS server silent, -C: client passes")
    tap.ok(1.5 <= secs < 8, "within -t 2 (took %.2f s)" % secs)
    tap.like(log_line(err), "reason=lookup failed (timed out", "log says the lookup timed out")
    out, err, secs, reached = res[1]
    tap.is_(reached, None, "DNS server silent, -c: client blocked")
    tap.like(out, "451 4.7.1 temporary DNS failure checking bl.test", "with 451 even under -b")
    tap.ok(secs < 8, "within -t 2 (took %.2f s)" % secs)
    out, err, rc, secs, reached = run(["-c", "-r", "bl.test"], dict(env, RBLSMTPD=""), nxt=nxt)
    tap.ok(reached == "args-kept" and secs < 1.5, "RBLSMTPD empty: no lookup at all (took %.2f s)" % secs)
    sock.close()


def dialogue(dns):
    env = dict(os.environ, TERN_DNS=dns, TCPREMOTEIP="127.0.0.2")
    env.pop("RBLSMTPD", None)
    out, _, _, _, _ = run(["-r", "bl.test"], env, data=b"HELO a\r\n" + b"X" * 5000 + b"\r\nRSET\nMAIL FROM:<a@b>\nQUIT\n")
    tap.like(out, "500 5.5.2 line too long\r\n", "overlong line refused")
    tap.like(out, "250 2.0.0 ok\r\n", "bare LF accepted as line end")
    tap.ok(out.endswith("221 2.0.0 rblsmtpd.local closing connection\r\n"), "dialogue continues after an overlong line")
    out, _, _, _, _ = run(["-l", "64", "-r", "bl.test"], env, data=b"MAIL FROM:<" + b"a" * 80 + b"@b>\r\nQUIT\r\n")
    tap.like(out, "500 5.5.2 line too long", "-l sets the line limit")

    # a client that says nothing: closed after -t, with a 421
    t0 = time.monotonic()
    p = subprocess.Popen([RBL, "-t", "1", "-r", "bl.test", "true"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read().decode()
    secs = time.monotonic() - t0
    p.stdin.close()
    p.wait(10)
    tap.like(out, "421 4.4.2", "silent client gets 421 at the time limit")
    tap.ok(secs < 6, "and the connection is closed (%.2f s for -t 1)" % secs)

    # a client that floods commands and never reads the replies: bounded by -t
    a, b = socket.socketpair()
    p = subprocess.Popen([RBL, "-t", "2", "-r", "bl.test", "true"], stdin=b.fileno(), stdout=b.fileno(),
                         stderr=subprocess.DEVNULL, env=env)
    b.close()
    a.setblocking(False)
    t0 = time.monotonic()
    sent = 0
    while p.poll() is None and time.monotonic() - t0 < 20:
        try:
            sent += a.send(b"MAIL FROM:<a@x.test>\r\n" * 100)
        except BlockingIOError:
            time.sleep(0.01)
    secs = time.monotonic() - t0
    # generous: the machine may be loaded; "never ends" runs into the 20 s loop bound
    tap.ok(p.poll() is not None and secs < 12, "client that never reads: ended at the -t 2 limit (%.2f s, %d bytes sent)" % (secs, sent))
    tap.is_(p.wait(5), 0, "by its own decision, not a signal")
    a.close()

    # a client that hangs up while replies are pending: no SIGPIPE death
    a, b = socket.socketpair()
    p = subprocess.Popen([RBL, "-r", "bl.test", "true"], stdin=b.fileno(), stdout=b.fileno(),
                         stderr=subprocess.DEVNULL, env=env)
    b.close()
    a.sendall(b"MAIL FROM:<a@x.test>\r\n" * 50)
    a.close()
    tap.is_(p.wait(10), 0, "client gone mid-dialogue: clean exit")

    # a real SMTP client on a socket
    a, b = socket.socketpair()
    p = subprocess.Popen([RBL, "-r", "bl.test", "true"], stdin=b.fileno(), stdout=b.fileno(),
                         stderr=subprocess.DEVNULL, env=env)
    b.close()
    s = smtplib.SMTP()
    s.sock = a
    code, msg = s.getreply()
    tap.is_(code, 220, "smtplib: greeting")
    code, msg = s.ehlo("client.test")
    tap.is_(code, 250, "smtplib: EHLO")
    code, msg = s.mail("a@x.test")
    tap.is_((code, msg), (451, b"4.7.1 Listed in bl.test: see http://bl.test/127.0.0.2"), "smtplib: MAIL gets 451 and the text")
    code, msg = s.rcpt("b@y.test")
    tap.is_(code, 451, "smtplib: RCPT gets 451")
    code, _ = s.quit()
    tap.is_(code, 221, "smtplib: QUIT gets 221")
    tap.is_(p.wait(10), 0, "rblsmtpd exits after QUIT")


def main():
    dm, dns = tern.dnsmasq([
        "--txt-record=2.0.0.127.bl.test,Listed in bl.test: see http://bl.test/127.0.0.2",
        "--host-record=2.0.0.127.bl.test,127.0.0.2",
        "--host-record=2.0.0.127.bl2.test,127.0.0.2",
        "--host-record=4.0.0.127.bl.test,127.0.0.2",
        "--txt-record=5.0.0.127.bl.test,TXT only",
        "--host-record=7.0.0.127.bl.test,127.255.255.254",
        "--host-record=2.0.0.127.al.test,127.0.0.2",
        "--txt-record=%s.bl.test,IPv6 listed" % nibbles(V6),
        "--host-record=%s.bl.test,127.0.0.2" % nibbles(V6),
    ])
    basics(dns)
    codes(dns)
    ipv6_and_odd(dns)
    dead_server()
    dialogue(dns)


tap.main(main)
