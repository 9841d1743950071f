#!/usr/bin/env python3
"""Slow and idle clients are timed out at every stage (idle after the
greeting, inside a command line, a line dripped one byte at a time, DATA
stalled or dripped,
the AUTH exchange, the TLS handshake both implicit and after STARTTLS),
while each holds only its own slot: tern-tcpserver -c leaves exactly one slot
free beside the stalled clients, and a normal client is served through it."""
import os
import select
import smtplib
import socket
import threading
import time

import tap
import tern
import terntls

TIMEOUT = 3          # control/timeoutsmtpd and tern-tlsd -t
BOUND = 40           # generous: a stalled client must be gone by then


def stall(port, script, tls=False):
    """Connects, plays script (a list of bytes to send, each after reading a
    reply line), then sends nothing more. Returns (seconds until the server
    closed, everything it said after the script), or (None, ...) on no close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    if tls:
        s = terntls.client_context().wrap_socket(s)
    f = s.makefile("rb")
    if not tls or script:
        f.readline()
    for data in script:
        s.sendall(data)
        if data.endswith(b"\n"):
            while True:
                line = f.readline()
                if not line or line[3:4] != b"-":
                    break
    t0 = time.monotonic()
    try:
        rest = s.recv(4096) if not tls else f.read()
        while rest and b"421" not in rest and not tls:
            more = s.recv(4096)
            if not more:
                break
            rest += more
        if not tls:
            s.recv(4096)   # then the end of file
    except (OSError, ValueError):
        rest = b"(reset)"
    s.close()
    return time.monotonic() - t0, rest


def handshake_stall(port, starttls):
    """Raw TCP: says nothing during the TLS handshake."""
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    if starttls:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO c.test\r\n")
        while f.readline()[3:4] == b"-":
            pass
        s.sendall(b"STARTTLS\r\n")
        f.readline()
    t0 = time.monotonic()
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    s.close()
    return time.monotonic() - t0, data


def drip(port, script=()):
    """Plays script (lines, each answered), then sends one byte per second,
    never ending the line."""
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    f = s.makefile("rb")
    f.readline()
    for data in script:
        s.sendall(data)
        while f.readline()[3:4] == b"-":
            pass
    t0 = time.monotonic()
    while time.monotonic() - t0 < BOUND:
        try:
            s.sendall(b"x")
        except OSError:
            break
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data or b"421" in data:
                s.close()
                return time.monotonic() - t0, data
    s.close()
    return None, b""


def served(port, tls=False):
    try:
        if tls:
            s = smtplib.SMTP_SSL("127.0.0.1", port, timeout=BOUND, context=terntls.client_context())
        else:
            s = smtplib.SMTP("127.0.0.1", port, timeout=BOUND)
        s.sendmail("a@x.test", ["u@tern.test"], b"Subject: meanwhile\r\n\r\nhi\r\n")
        s.quit()
        return True
    except (OSError, smtplib.SMTPException) as e:
        return repr(e)


def slow_lines(port):
    """A slow but live client: a DATA line every second for longer than the
    timeout in all, each line whole within it. It must get 250."""
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    f = s.makefile("rb")
    f.readline()
    for line in (b"HELO c.test", b"MAIL FROM:<a@x.test>", b"RCPT TO:<u@tern.test>", b"DATA"):
        s.sendall(line + b"\r\n")
        f.readline()
    for i in range(TIMEOUT + 3):
        s.sendall(b"line %d\r\n" % i)
        time.sleep(1)
    s.sendall(b".\r\n")
    reply = f.readline()
    s.close()
    return reply


def main():
    home = tern.make_home({"rcpthosts": ["tern.test"], "timeoutsmtpd": str(TIMEOUT)})
    tern.make_queue(home)
    env = {"TERN_HOME": home}
    key, cert = terntls.make_cert(tern.tmpdir())
    smtpd = [tern.prog("tern-smtpd"), "-p", "false"]
    tlsd = [tern.prog("tern-tlsd"), "-t", str(TIMEOUT), "-k", key, "-c", cert]
    # -c: one slot more than the stalled clients each server gets
    _, plain, plain_log = tern.tcpserver(smtpd, env=env, opts=("-c", "7"))
    _, stls, stls_log = tern.tcpserver(tlsd + smtpd, env=env, opts=("-c", "2"))
    _, imp, imp_log = tern.tcpserver(tlsd[:1] + ["-i"] + tlsd[1:] + smtpd, env=env, opts=("-c", "3"))
    ehlo = b"EHLO c.test\r\n"
    stages = {
        "idle after the greeting": lambda: stall(plain, []),
        "inside a command line": lambda: stall(plain, [ehlo, b"MAIL FROM:<a@x.te"]),
        "a command line dripped a byte a second": lambda: drip(plain),
        "DATA dripped a byte a second": lambda: drip(plain, [ehlo, b"MAIL FROM:<a@x.test>\r\n",
                                                             b"RCPT TO:<u@tern.test>\r\n", b"DATA\r\n"]),
        "DATA": lambda: stall(plain, [ehlo, b"MAIL FROM:<a@x.test>\r\n", b"RCPT TO:<u@tern.test>\r\n",
                                      b"DATA\r\n", b"Subject: slow\r\n\r\nhalf a mess"]),
        "the AUTH exchange": lambda: stall(plain, [ehlo, b"AUTH LOGIN\r\n"]),
        "the TLS handshake after STARTTLS": lambda: handshake_stall(stls, True),
        "the implicit TLS handshake": lambda: handshake_stall(imp, False),
        "idle inside implicit TLS": lambda: stall(imp, [ehlo], tls=True),
    }
    res = {}
    threads = [threading.Thread(target=lambda k=k, f=f: res.__setitem__(k, f())) for k, f in stages.items()]
    for t in threads:
        t.start()

    def busy(log, n, of):
        """tern-tcpserver's log says n of its of slots are taken."""
        with open(log) as f:
            return "tern-tcpserver: status: %d/%d\n" % (n, of) in f.read()
    # the stalled clients hold their slots before the normal ones come
    tap.ok(tern.wait_for(lambda: busy(plain_log, 6, 7) and busy(stls_log, 1, 2) and busy(imp_log, 2, 3)),
           "the stalled clients are connected (6/7, 1/2, 2/3 slots)")
    tap.is_(served(plain), True, "plain: a normal client is served beside 6 stalled ones (-c 7)")
    tap.is_(served(imp, True), True, "implicit TLS: a normal client is served beside 2 stalled ones (-c 3)")
    tap.is_(served(stls), True, "STARTTLS port: a normal client is served beside a stalled one (-c 2)")
    for t in threads:
        t.join(BOUND + 10)
    for k in stages:
        secs, said = res.get(k, (None, b""))
        tap.ok(secs is not None and secs < BOUND,
               "%s: closed after %s s (timeout %d)" % (k, "%.1f" % secs if secs is not None else "-", TIMEOUT), said)
        if k in ("idle after the greeting", "DATA dripped a byte a second", "inside a command line", "DATA", "the AUTH exchange",
                 "a command line dripped a byte a second"):
            tap.like(said, b"421 4.4.2", "%s: with 421 4.4.2" % k)
    tap.is_(len(tern.queued_messages(home)), 3, "only the three normal messages were queued")
    tap.like(slow_lines(plain), b"250 ", "DATA lines a second apart, %d s in all: each line's deadline restarts, 250"
             % (TIMEOUT + 3))


tap.main(main)
