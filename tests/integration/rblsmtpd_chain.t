#!/usr/bin/env python3
"""The real chain: tern-tcpserver (rules set RBLSMTPD) -> tern-rblsmtpd ->
tern-smtpd, with smtplib clients from several loopback addresses and a
dnsmasq list. Listed clients see the list's text and queue nothing; others
reach tern-smtpd and queue."""
import os
import smtplib
import socket

import tap
import tern

RBL = tern.prog("tern-rblsmtpd")
RULES = '127.0.0.4:allow,RBLSMTPD=""\n127.0.0.5:allow,RBLSMTPD="-Go away: local policy"\n:allow\n'


def nibbles(ip6):
    b = socket.inet_pton(socket.AF_INET6, ip6)
    return ".".join("%x.%x" % (c & 15, c >> 4) for c in reversed(b))


def send(host, port, source):
    """Sends one message; returns ("ok", None) or (code, text) of the refusal."""
    try:
        with smtplib.SMTP(host, port, source_address=(source, 0), timeout=20) as s:
            s.sendmail("a@x.test", ["user@tern.test"], "Subject: hi\r\n\r\nhello\r\n")
        return "ok", None
    except smtplib.SMTPSenderRefused as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")


def log_has(log, text):
    def get():
        with open(log, errors="replace") as f:
            t = f.read()
        return text in t
    return tern.wait_for(get, 5)


def main():
    if not os.path.exists(tern.prog("tern-smtpd")) or not os.path.exists(tern.prog("tern-tcpserver")):
        tap.skip_all("tern-smtpd or tern-tcpserver not built")
    dm, dns = tern.dnsmasq([
        "--txt-record=2.0.0.127.bl.test,Listed in bl.test: see http://bl.test/127.0.0.2",
        "--host-record=2.0.0.127.bl.test,127.0.0.2",
        "--host-record=4.0.0.127.bl.test,127.0.0.2",
        "--host-record=6.0.0.127.bl.test,127.0.0.2",
        "--host-record=6.0.0.127.al.test,127.0.0.2",
        "--txt-record=%s.bl.test,IPv6 loopback listed" % nibbles("::1"),
    ])
    home = tern.make_home({"rcpthosts": ["tern.test"], "timeoutsmtpd": "20"})
    tern.make_queue(home)
    env = {"TERN_HOME": home, "TERN_DNS": dns}
    chain = [RBL, "-t", "5", "-a", "al.test", "-r", "bl.test", tern.prog("tern-smtpd")]
    p, port, log = tern.tcpserver(chain, rules=RULES, env=env)

    code, text = send("127.0.0.1", port, "127.0.0.2")
    tap.is_(code, 451, "listed client: MAIL refused with 451")
    tap.is_(text, "4.7.1 Listed in bl.test: see http://bl.test/127.0.0.2", "with the list's TXT text")
    tap.is_(len(tern.queued_messages(home)), 0, "nothing queued from the listed client")
    tap.ok(log_has(log, "tern-rblsmtpd: info: block ip=127.0.0.2 code=451 list=bl.test"), "block logged")

    tap.is_(send("127.0.0.1", port, "127.0.0.3"), ("ok", None), "unlisted client reaches tern-smtpd")
    tap.is_(len(tern.queued_messages(home)), 1, "and its message is queued")

    tap.is_(send("127.0.0.1", port, "127.0.0.4"), ("ok", None), "listed client with RBLSMTPD=\"\" from the rules passes")
    tap.ok(log_has(log, "pass ip=127.0.0.4 code=- list=- ms="), "skip logged")
    tap.is_(send("127.0.0.1", port, "127.0.0.6"), ("ok", None), "allowlisted client passes although listed")

    code, text = send("127.0.0.1", port, "127.0.0.5")
    tap.is_((code, text), (553, "5.7.1 Go away: local policy"), "RBLSMTPD=\"-text\" from the rules: 553")
    tap.is_(len(tern.queued_messages(home)), 3, "three messages queued in all")

    # POP-before-SMTP: tern-relaycheck in front sets RBLSMTPD="" for a fresh login
    os.makedirs(os.path.join(home, "relay"), exist_ok=True)
    open(os.path.join(home, "relay", "127.0.0.2"), "w").close()
    pr, portr, logr = tern.tcpserver([tern.prog("tern-relaycheck")] + chain, rules=":allow\n", env=env)
    tap.is_(send("127.0.0.1", portr, "127.0.0.2"), ("ok", None), "listed client with a fresh POP login passes (tern-relaycheck)")
    tap.ok(log_has(logr, "pass ip=127.0.0.2 code=- list=- ms="), "logged as skipped")
    code, _ = send("127.0.0.1", portr, "127.0.0.6")
    tap.is_(code, "ok", "allowlisted client through the same chain")
    tap.is_(len(tern.queued_messages(home)), 5, "five messages queued in all")

    pooled(home, env)

    # IPv6: a listener on ::1, the client ::1 listed by nibbles
    try:
        p6, port6, log6 = tern.tcpserver(chain, rules=":allow\n", host="::1", env=env)
    except Exception as e:
        tap.note("no IPv6 loopback: %s" % e)
        return
    code, text = send("::1", port6, "::1")
    tap.is_((code, text), (451, "4.7.1 IPv6 loopback listed"), "IPv6 client listed by nibbles: 451 with the text")
    tap.ok(log_has(log6, "block ip=::1 code=451 list=bl.test"), "IPv6 block logged")
    tap.is_(len(tern.queued_messages(home)), 8, "nothing more queued")


def pooled(home, env):
    """The same decisions in-process in a pooled tern-smtpd (-P and
    tern-rblsmtpd's options; docs/pool.md), one worker for every session:
    a POP login's grant does not outlive its session."""
    before = len(tern.queued_messages(home))
    chain = [tern.prog("tern-smtpd"), "-P", "-t", "5", "-a", "al.test", "-r", "bl.test"]
    p, port, log = tern.tcpserver(chain, rules=RULES, env=env, opts=("-w", "100", "-c", "1", "-k", "1"))
    tap.is_(send("127.0.0.1", port, "127.0.0.2"), ("ok", None), "pooled: listed client with a fresh POP login passes")
    tap.ok(log_has(log, "relay granted to 127.0.0.2"), "pooled: the grant is logged")
    os.unlink(os.path.join(home, "relay", "127.0.0.2"))
    code, text = send("127.0.0.1", port, "127.0.0.2")
    tap.is_((code, text), (451, "4.7.1 Listed in bl.test: see http://bl.test/127.0.0.2"),
            "pooled: without the login, the same worker refuses it (no grant left over)")
    tap.ok(log_has(log, "tern-smtpd: info: block ip=127.0.0.2 code=451 list=bl.test"), "pooled: block logged")
    tap.is_(send("127.0.0.1", port, "127.0.0.3"), ("ok", None), "pooled: unlisted client served")
    tap.is_(send("127.0.0.1", port, "127.0.0.5"), (553, "5.7.1 Go away: local policy"), "pooled: RBLSMTPD from the rules")
    tap.is_(send("127.0.0.1", port, "127.0.0.6"), ("ok", None), "pooled: allowlisted client passes")
    tap.is_(len(tern.queued_messages(home)) - before, 3, "pooled: three messages queued")
    pids = set(l.split()[2] for l in open(log) if l.startswith("tern-tcpserver: ok "))
    tap.is_(len(pids), 1, "pooled: all in one worker")
    tern.stop(p)


tap.main(main)
