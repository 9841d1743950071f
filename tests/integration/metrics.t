#!/usr/bin/env python3
"""Issue 19: the log summary and the metrics of a real instance. make-run's
demo (s6-svscan, s6-log) gets known traffic: messages accepted on smtp and
submission, a relay refused, an unknown user refused, a remote recipient
sent and one bounced (a sink via smtproutes), one deferred (a closed port),
a failed AUTH. tern-logsum over the instance's logs counts each as sent;
tern-metrics under tern-tcpserver answers HTTP with text that promtool
accepts; a Prometheus server on loopback scrapes it and its query API gives
the accepted-messages counter. Damaged and empty logs give a summary."""
import json
import os
import re
import shutil
import smtplib
import subprocess
import urllib.request

import sink
import tap
import tern
from demo import Demo, USER, tls_context


def msg(to, subject):
    return "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nbody %s\r\n" % (USER, to, subject, subject)


def traffic(d, sinkport, closedport):
    with open(os.path.join(d.home, "control", "smtproutes"), "w") as f:
        f.write("sink.test:[127.0.0.1]:%d\ndefer.test:[127.0.0.1]:%d\n" % (sinkport, closedport))
    for i in range(2):
        with smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=30) as c:
            tap.is_(c.sendmail("a@example.org", [USER], msg(USER, "in-%d" % i)), {}, "smtp: message %d accepted" % i)
    with open(os.path.join(d.home, "control", "badrcptto"), "w") as f:
        f.write("trap@tern.test\n")
    with smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=30, source_address=("127.0.0.2", 0)) as c:
        c.ehlo("outsider.example")
        c.mail("spammer@example.org")
        tap.is_(c.rcpt("victim@remote.test")[0], 553, "relay refused")
        tap.is_(c.rcpt("nobody@tern.test")[0], 550, "unknown user refused")
        tap.is_(c.rcpt("trap@tern.test")[0], 553, "badrcptto refused")
    for to in (["ok@sink.test", "bad@sink.test"], ["x@defer.test"]):
        with smtplib.SMTP("127.0.0.1", d.ports["submission"], timeout=30) as c:
            c.starttls(context=tls_context())
            c.login(USER, d.password)
            tap.is_(c.sendmail(USER, to, msg(to[0], "out")), {}, "submission accepts mail for %s" % to)
    with smtplib.SMTP_SSL("127.0.0.1", d.ports["smtps"], timeout=30, context=tls_context()) as c:
        try:
            c.login(USER, d.password + "x")
        except smtplib.SMTPAuthenticationError:
            pass


def sendlog(d):
    try:
        with open(os.path.join(d.home, "log", "send", "current")) as f:
            return f.read()
    except OSError:
        return ""


def count(text, key):
    m = re.search(r"^\s*%s: (\d+)" % re.escape(key), text, re.M)
    return int(m.group(1)) if m else None


def test_summary(d):
    out = subprocess.run([tern.prog("tern-logsum")], env=dict(os.environ, TERN_HOME=d.home),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    tap.is_(out.returncode, 0, "tern-logsum over the instance's logs exits 0")
    s = out.stdout
    tap.note(s[:3000])
    ndefer = sendlog(d).count(": deferral: x@defer.test")
    tap.is_(count(s, "messages received"), 4, "4 messages received")
    tap.like(s, "received on smtp (port %d): 2, authenticated 0" % d.ports["smtp"], "2 on smtp, not authenticated")
    tap.like(s, "received on submission (port %d): 2, authenticated 2" % d.ports["submission"], "2 on submission, authenticated")
    tap.like(s, "sent: 4 (3/1/0)", "sent: 3 local (2 + the bounce), 1 remote")
    tap.like(s, "bounced: 1 (0/1/0)", "bounced: 1 remote")
    tap.ok(ndefer >= 1, "the deferral is in the log")
    tap.like(s, "deferred: %d (0/%d/0)" % (ndefer, ndefer), "deferred: as many as the log's deferral lines")
    tap.is_(count(s, "failure notices sent"), 1, "one failure notice")
    tap.is_(count(s, "refused relay_denied"), 1, "one relay refused")
    tap.is_(count(s, "refused unknown_user"), 1, "one unknown user refused")
    tap.is_(count(s, "refused badrcptto"), 1, "one badrcptto refusal, under its own reason")
    m = re.search(r"^  smtps: \d+, 0, \d+/\d+, 0/(\d+)$", s, re.M)
    tap.ok(m and int(m.group(1)) >= 1, "smtps: the wrong password is an AUTH failure (smtplib tries each mechanism)")
    m = re.search(r"^  submission: \d+, 0, (\d+)/\d+, 2/0$", s, re.M)
    tap.ok(m, "submission: two AUTH successes")
    tap.ok(m and int(m.group(1)) >= 2, "submission: the two STARTTLS handshakes")
    tap.like(s, "  2 a@example.org\n", "top senders")
    tap.like(s, "  2 sink.test\n", "top domains")
    tap.is_(count(s, "lines damaged"), 0, "no damaged line")
    tap.like(s, "all: 4 deliveries, p50", "delay percentiles")


def test_damaged(d):
    w = tern.tmpdir("tern-logsum-")
    bad = os.path.join(w, "bad")
    with open(bad, "wb") as f:
        f.write(b"garbage\n\0\0binary\n" + b"x" * 40000 + b"\n2026-12-05 03:23:49.6  tern-smtpd: info: ip=1 from=<a\n"
                b"2026-12-05 03:23:49.6  tern-smtpd: info: ip=127.0.0.1 from=<s@x> to=<u@tern.test> (ok) bytes=9 id=abc result=250 ok\n"
                b"no newline at the end")
    empty = os.path.join(w, "empty")
    open(empty, "w").close()
    r = subprocess.run([tern.prog("tern-logsum"), bad, empty], stdout=subprocess.PIPE, text=True, timeout=30)
    tap.is_(r.returncode, 0, "damaged and empty logs: exit 0")
    tap.is_(count(r.stdout, "lines damaged"), 2, "a NUL line and a 40 KB line are damaged")
    tap.is_(count(r.stdout, "lines unknown"), 3, "garbage, a cut line, a line without newline are unknown")
    tap.is_(count(r.stdout, "messages received"), 1, "the good line among them counts")
    r = subprocess.run([tern.prog("tern-logsum"), empty], stdout=subprocess.PIPE, text=True, timeout=30)
    tap.is_((r.returncode, count(r.stdout, "lines")), (0, 0), "an empty log: a summary of nothing")
    r = subprocess.run([tern.prog("tern-logsum"), "-d", "2026-13-01", empty], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    tap.is_(r.returncode, 100, "a bad day is refused (100)")
    r = subprocess.run([tern.prog("tern-logsum"), "-d", "1999-01-01", os.path.join(d.home, "log", "smtp")],
                       stdout=subprocess.PIPE, text=True, timeout=30)
    tap.is_(count(r.stdout, "messages received"), 0, "-d: another day counts nothing")


def test_status_lines():
    """docs/logs.md's per-recipient lines (issue 15) beside the older
    'delivery N:' ones: counted once, reply text and addresses not searched."""
    f = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics", "statuslines.log")
    r = subprocess.run([tern.prog("tern-logsum"), f], stdout=subprocess.PIPE, text=True, timeout=30)
    tap.like(r.stdout, "sent: 2 (1/1/0)", "status= lines: one local (relay=local), one remote, not twice")
    tap.like(r.stdout, "bounced: 0 (0/0/0)", "status=bounced in a reply text or an address is not a status")
    tap.like(r.stdout, "expired: 1 (0/1/0)", "status=expired")
    tap.like(r.stdout, "local: 1 deliveries, p50 1 h", "delay= gives the delay")
    # 'delivery N: msg ID: RESULT:' (the ID on result lines, issue 15) in a log without status= lines
    f = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics", "idlines.log")
    r = subprocess.run([tern.prog("tern-logsum"), f], stdout=subprocess.PIPE, text=True, timeout=30)
    tap.like(r.stdout, "sent: 1 (1/0/0)", "result lines with the ID: the local success")
    tap.like(r.stdout, "deferred: 1 (0/1/0)", "the remote deferral")
    tap.like(r.stdout, "bounced: 1 (0/1/0)", "the failure of a run an earlier tern-send started")
    tap.is_(count(r.stdout, "lines unknown"), 0, "no line unknown")


def http(port, req):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(req)
        data = b""
        while True:
            try:
                c = s.recv(65536)
            except ConnectionResetError:
                return data + b" (reset)"
            if not c:
                return data
            data += c


def test_metrics(d):
    p, port, log = tern.tcpserver([tern.prog("tern-metrics")], env={"TERN_HOME": d.home})
    r = http(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    head, _, body = r.partition(b"\r\n\r\n")
    tap.like(head, b"HTTP/1.0 200 OK", "GET /metrics: 200")
    tap.like(body, b'tern_messages_accepted_total{service="submission",auth="yes"} 2', "accepted counter in the body")
    tap.like(body, b"tern_queue_messages ", "the queue gauge")
    tap.like(http(port, b"GET /x HTTP/1.0\r\n\r\n"), b"404", "another path: 404")
    tap.like(http(port, b"POST /metrics HTTP/1.0\r\n\r\n"), b"405", "another method: 405")
    r = http(port, b"GET /metrics HTTP/1.0\r\n" + b"X" * 9000)
    tap.ok(b"400" in r or r == b" (reset)", "a request head over 8 KiB: 400 (or closed unread)")
    if not shutil.which("promtool"):
        tap.ok(False, "promtool is installed (deps)")
        return port
    c = subprocess.run(["promtool", "check", "metrics"], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    tap.is_(c.returncode, 0, "promtool check metrics accepts it")
    if c.returncode:
        tap.note(c.stdout.decode(errors="replace"))
    w = tern.tmpdir("tern-metrics-")
    f = os.path.join(w, "tern.prom")
    r = subprocess.run([tern.prog("tern-metrics"), "-t", f], env=dict(os.environ, TERN_HOME=d.home), timeout=60)
    tap.is_(r.returncode, 0, "textfile mode exits 0")
    tap.like(open(f, "rb").read(), b"tern_messages_accepted_total", "and writes the file")
    return port


def test_prometheus(port):
    if not shutil.which("prometheus"):
        tap.ok(False, "prometheus is installed (deps)")
        return
    w = tern.tmpdir("tern-prom-")
    cfg = os.path.join(w, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tern\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % port)
    web = tern.free_port()
    p = tern.spawn(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(w, "data"),
                    "--web.listen-address=127.0.0.1:%d" % web], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d/api/v1/query?query=sum(tern_messages_accepted_total)" % web

    def value():
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                res = json.load(r)["data"]["result"]
                return res[0]["value"][1] if res else None
        except (OSError, ValueError, KeyError):
            return None
    v = tern.wait_for(value, 120, 0.5)
    tap.is_(v, "4", "Prometheus scraped tern-metrics: sum(tern_messages_accepted_total) is 4")
    tern.stop(p)


def test_setup():
    w = tern.tmpdir("tern-setup-m-")
    port = tern.free_port()
    r = subprocess.run([tern.prog("tern-setup"), "-u", "-i", "0.0.0.0", "-M", str(port), os.path.join(w, "a")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    tap.is_(r.returncode, 0, "tern-setup -M PORT")
    run = open(os.path.join(w, "a", "service", "metrics", "run")).read()
    tap.like(run, "127.0.0.1 %d tern-metrics" % port, "adds a metrics service on loopback (even with -i 0.0.0.0)")
    r = subprocess.run([tern.prog("tern-setup"), "-u", os.path.join(w, "b")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    tap.ok(r.returncode == 0 and not os.path.exists(os.path.join(w, "b", "service", "metrics")),
           "without -M there is none (off by default)")
    r = subprocess.run([tern.prog("tern-setup"), "-u", "-M", "99999", os.path.join(w, "c")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    tap.is_(r.returncode, 100, "a bad metrics port is refused (100)")


def main():
    test_setup()
    d = Demo(users=False).start()
    if not d.up():
        tap.ok(False, "the demo came up")
        return tap.done()
    s = sink.Sink("127.0.0.1", 0, rcpt_replies={"bad@sink.test": "550 5.1.1 no such user"})
    s.start()
    traffic(d, s.port, tern.free_port())
    tap.ok(tern.wait_for(lambda: len(d.maildir_new()) >= 3, 60), "3 messages land in the demo Maildir (2 + the bounce)")
    tap.ok(tern.wait_for(lambda: ": deferral: x@defer.test" in sendlog(d), 60), "the deferral is logged")
    tap.ok(tern.wait_for(lambda: "success: ok@sink.test" in sendlog(d), 60), "the remote one is sent")
    test_summary(d)
    test_damaged(d)
    test_status_lines()
    port = test_metrics(d)
    test_prometheus(port)
    s.stop()
    d.interrupt(60)
    return tap.done()


if __name__ == "__main__":
    raise SystemExit(main())
