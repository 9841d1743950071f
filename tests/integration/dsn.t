#!/usr/bin/env python3
# The DSN extension (RFC 3461/3464) end to end through tern-send: the M and
# N envelope records, success reports (delivered locally, relayed to a host
# without DSN), pass-through to a DSN host, NOTIFY=NEVER, RET=HDRS, ENVID and
# ORCPT in reports, and the one delay report (control/delaywarning).
import os
import tap
import tern
import deliver
import remotetest
import smtplib
from smtpraw import smtpd_server


def envl(sender, mparams, rcpts):
    """An envelope with DSN records: rcpts is [(address, params or None)]."""
    b = b"F" + sender.encode() + b"\0"
    if mparams:
        b += b"M" + mparams.encode() + b"\0"
    for a, p in rcpts:
        b += b"T" + a.encode() + b"\0"
        if p:
            b += b"N" + p.encode() + b"\0"
    return b + b"\0"


def setup(control=None, plain_opts=None):
    port, (dsn, plain) = remotetest.sinks(["127.0.0.2", "127.0.0.3"], {
        "127.0.0.2": {"dsn": True}, "127.0.0.3": dict(plain_opts or {})})
    c = {"smtproutes": ["dsn.test:[127.0.0.2]", "plain.test:[127.0.0.3]"], "helohost": "mx.ex.test",
         "timeoutremote": "20", "retryschedule": "1"}
    c.update(control or {})
    home = deliver.instance(users=["alice@ex.test", "snd@ex.test"], control=c)
    return home, dsn, plain, {"TERN_SMTP_PORT": str(port)}


def q(home, body, e):
    code = deliver.queue(home, body, "", [], envl=e)
    if code != 0:
        raise RuntimeError("tern-queue exit %d" % code)


def reports():
    home, dsn, plain, env = setup(plain_opts={"rcpt_replies": {"bad@plain.test": "550 5.1.1 no such user"}})
    q(home, b"Subject: one\n\nbody one\n", envl("snd@ex.test", "RET=HDRS ENVID=env+2Bone", [
        ("a@plain.test", "NOTIFY=SUCCESS ORCPT=rfc822;orig+40x.test"),
        ("alice@ex.test", "NOTIFY=SUCCESS,FAILURE"),
        ("b@dsn.test", "NOTIFY=SUCCESS ORCPT=rfc822;b+40dsn.test")]))
    q(home, b"Subject: never\n\nbody never\n", envl("snd@ex.test", None, [("bad@plain.test", "NOTIFY=NEVER")]))
    q(home, b"Subject: three\n\nsecret body three\n", envl("snd@ex.test", "RET=HDRS ENVID=env3", [
        ("bad@plain.test", "NOTIFY=FAILURE ORCPT=rfc822;bad+40plain.test")]))
    p, log = deliver.start_send(home, extra=env)
    tap.ok(deliver.wait_maildir(home, "snd", 2, 60), "two reports for the sender")
    tap.ok(deliver.wait_queue_empty(home, 60), "queue empty")
    tern.stop(p)
    got = deliver.maildir_new(home, "snd")
    tap.is_(len(got), 2, "exactly two reports: none for NOTIFY=NEVER")
    succ = [m for m in got if b"Action: relayed" in m]
    fail = [m for m in got if b"Action: failed" in m]
    tap.is_(len(succ), 1, "a success report")
    s = succ[0] if succ else b""
    tap.like(s, b"multipart/report; report-type=delivery-status", "RFC 3464 multipart/report")
    tap.like(s, b"Final-Recipient: rfc822; a@plain.test\nAction: relayed\nStatus: 2.0.0", "relayed by the non-DSN hop")
    tap.like(s, b"Original-Recipient: rfc822;orig@x.test\nFinal-Recipient: rfc822; a@plain.test", "ORCPT decoded in the report")
    tap.like(s, b"Final-Recipient: rfc822; alice@ex.test\nAction: delivered", "delivered locally")
    tap.ok(b"b@dsn.test" not in s.split(b"Content-Type: message/delivery-status")[-1].split(b"text/rfc822-headers")[0],
           "no report for the recipient passed on to the DSN hop")
    tap.like(s, b"Original-Envelope-Id: env+one", "ENVID decoded in the report")
    f = fail[0] if fail else b""
    tap.like(f, b"Original-Envelope-Id: env3", "ENVID in the failure report")
    tap.like(f, b"Original-Recipient: rfc822;bad@plain.test", "ORCPT in the failure report")
    tap.like(f, b"Status: 5.1.1", "failure status")
    tap.like(f, b"Content-Type: text/rfc822-headers", "RET=HDRS: headers only")
    tap.ok(b"secret body three" not in f, "RET=HDRS: no body")
    cmds = [c for t in dsn.transactions for c in t["commands"]]
    tap.ok("MAIL FROM:<snd@ex.test> RET=HDRS ENVID=env+2Bone" in " | ".join(cmds) or
           any(c.startswith("MAIL FROM:<snd@ex.test>") and "RET=HDRS ENVID=env+2Bone" in c for c in cmds),
           "RET and ENVID passed to the DSN hop")
    tap.ok(any(c == "RCPT TO:<b@dsn.test> NOTIFY=SUCCESS ORCPT=rfc822;b+40dsn.test" for c in cmds),
           "NOTIFY and ORCPT passed to the DSN hop")
    pc = [c for t in plain.transactions for c in t["commands"]]
    tap.ok(not any("NOTIFY" in c or "ENVID" in c for c in pc), "nothing passed to the hop without DSN")


def ret_full():
    """RET=FULL returns the whole message up to control/bouncemaxbytes;
    a bigger one comes back as its headers, with a note that the body was cut."""
    home, dsn, plain, env = setup(control={"bouncemaxbytes": "300"},
                                  plain_opts={"rcpt_replies": {"bad@plain.test": "550 5.1.1 no such user"}})
    q(home, b"Subject: small\n\nsmall body\n", envl("snd@ex.test", "RET=FULL", [("bad@plain.test", None)]))
    q(home, b"Subject: big\n\n" + b"big body line\n" * 100, envl("snd@ex.test", "RET=FULL", [("bad@plain.test", None)]))
    p, log = deliver.start_send(home, extra=env)
    tap.ok(deliver.wait_maildir(home, "snd", 2, 60), "two failure reports")
    tern.stop(p)
    got = deliver.maildir_new(home, "snd")
    small = ([m for m in got if b"Subject: small" in m] or [b""])[0]
    big = ([m for m in got if b"Subject: big" in m] or [b""])[0]
    tap.like(small, b"Content-Type: message/rfc822\nContent-Description: Undelivered message\n\n", "under bouncemaxbytes: message/rfc822")
    tap.like(small, b"\nsmall body\n", "with its body")
    tap.like(big, b"Content-Type: text/rfc822-headers\nContent-Description: Undelivered message headers (body cut: over bouncemaxbytes)",
             "over bouncemaxbytes: the headers only")
    tap.like(big, b"the 300 bytes this server returns (control/bouncemaxbytes):\nonly its headers are attached below; the body was cut.",
             "a note says the body was cut")
    tap.ok(b"big body line" not in big, "and the body is not in it")


def delays():
    home, dsn, plain, env = setup(control={"delaywarning": "1"},
                                  plain_opts={"rcpt_replies": {"slow@plain.test": "451 4.3.0 try later",
                                                               "slow2@plain.test": "451 4.3.0 try later"}})
    q(home, b"Subject: slow\n\nbody\n", envl("snd@ex.test", None, [("slow@plain.test", None)]))
    q(home, b"Subject: slow2\n\nbody\n", envl("snd@ex.test", None, [("slow2@plain.test", "NOTIFY=FAILURE")]))
    p, log = deliver.start_send(home, extra=env)
    tap.ok(deliver.wait_maildir(home, "snd", 1, 60), "a delay report")
    # two more deferrals of each after the report: no second one comes
    tap.ok(tern.wait_for(lambda: log.count("deferral: slow@plain.test") >= 5
                         and log.count("deferral: slow2@plain.test") >= 5, 90), "retries go on")
    tern.stop(p)
    got = deliver.maildir_new(home, "snd")
    tap.is_(len(got), 1, "exactly one delay report, none for NOTIFY=FAILURE")
    m = got[0] if got else b""
    tap.like(m, b"Final-Recipient: rfc822; slow@plain.test\nAction: delayed\nStatus: 4.3.0", "Action: delayed")
    tap.like(m, b"Will-Retry-Until: ", "Will-Retry-Until")
    tap.like(m, b"451 4.3.0 try later", "the last error")
    tap.ok(b"slow2@plain.test" not in m, "the NOTIFY=FAILURE recipient is not in it")


def smtpd_params():
    """tern-smtpd advertises DSN and writes the parameters as M and N records."""
    home, port, log = smtpd_server()
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    code, text = s.ehlo("client.example")
    tap.like(text, b"\nDSN", "EHLO advertises DSN")
    tap.is_(s.mail("a@b.test", ["RET=HDRS", "ENVID=e+2B1"])[0], 250, "MAIL with RET and ENVID")
    tap.is_(s.rcpt("u@tern.test", ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;x+40y.test"])[0], 250, "RCPT with NOTIFY and ORCPT")
    tap.is_(s.rcpt("v@tern.test", ["NOTIFY=NEVER,DELAY"])[0], 501, "NOTIFY=NEVER with DELAY: 501")
    tap.is_(s.rcpt("w@tern.test")[0], 250, "RCPT without parameters")
    tap.is_(s.data(b"Subject: p\r\n\r\nx\r\n")[0], 250, "queued")
    s.quit()
    files = deliver.queue_files(home)
    raw = open(files[0], "rb").read() if files else b""
    tap.like(raw, b"\nFa@b.test\0MRET=HDRS ENVID=e+2B1\0Tu@tern.test\0NNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y.test\0Tw@tern.test\0\0",
             "the queue file's envelope holds the M and N records")


def first_delay():
    """control/firstdelay holds a new message back before its first attempt."""
    import time
    home = deliver.instance(users=["alice@ex.test"], control={"firstdelay": "4"})
    p, log = deliver.start_send(home)
    t0 = time.time()
    deliver.queue(home, b"Subject: held\n\nbody\n", "a@x.test", ["alice@ex.test"])
    tap.ok(deliver.wait_maildir(home, "alice", 1, 60), "delivered after the first-attempt delay")
    took = time.time() - t0
    # the arrival time has one-second steps: at least 3 of the 4 seconds
    tap.ok(took >= 3, "not attempted before the delay (%.1f s)" % took)
    tern.stop(p)


def ipv6_literal():
    """u@[IPv6:::1] goes to the sink on ::1 (the tag is not part of the address)."""
    import sink
    try:
        s = sink.Sink("::1", 0).start()
    except OSError as e:
        tap.note("no IPv6 loopback here: %s" % e)
        return
    home = deliver.instance(control={"ipme": "127.0.0.5", "retryschedule": "1"})
    p, log = deliver.start_send(home, extra={"TERN_SMTP_PORT": str(s.port)})
    deliver.queue(home, b"Subject: six\n\nbody\n", "a@x.test", ["u@[IPv6:::1]"])
    tap.is_(s.wait(1, 60), 1, "delivered to the sink on ::1")
    tap.is_(s.transactions[0]["rcpts"] if s.transactions else None, ["u@[IPv6:::1]"], "the recipient as written")
    # tern-inject -t: the literal's colons are not RFC 5322 group syntax
    import subprocess
    r = subprocess.run([tern.prog("tern-inject"), "-t", "-f", "a@x.test"], capture_output=True, timeout=30,
                       input=b"To: u@[IPv6:::1]\nCc: Group: v@[IPv6:0:0::1];\nSubject: seven\n\nbody\n",
                       env=deliver.env(home, {"TERN_SMTP_PORT": str(s.port)}))
    tap.is_(r.returncode, 0, "tern-inject -t with To: u@[IPv6:::1]", )
    def rcpts():
        return sorted(a for t in s.transactions[1:] for a in t["rcpts"])
    tern.wait_for(lambda: len(rcpts()) >= 2, 60)
    tap.is_(rcpts(), ["u@[IPv6:::1]", "v@[IPv6:0:0::1]"], "the injected message reaches the sink on ::1, both header recipients whole")
    # from SMTP: tern-smtpd writes the literal canonically ([ipv6:::1])
    sp, sport, slog = tern.tcpserver([tern.prog("tern-smtpd")], rules='127.0.0.1:allow,RELAYCLIENT=""\n',
                                     env={"TERN_HOME": home})
    c = smtplib.SMTP("127.0.0.1", sport, timeout=30)
    c.sendmail("a@x.test", ["w@[IPv6:0::1]"], b"Subject: eight\r\n\r\nbody\r\n")
    c.quit()
    tern.wait_for(lambda: "w@[ipv6:::1]" in rcpts(), 60)
    tap.ok("w@[ipv6:::1]" in rcpts(), "received by tern-smtpd for [IPv6:0::1]: delivered to the sink on ::1", rcpts())
    tap.ok(not log.has("bad address literal"), "no 'bad address literal'")
    tern.stop(sp)
    tern.stop(p)
    s.stop()


def smarthost_auth():
    """control/smtpauth matches a relay written [192.0.2.1] as smtproutes
    writes it; a smarthost's 530 at MAIL is temporary, with a log line."""
    import sink
    d = tern.tmpdir()
    cert = sink.make_cert(d, "smart.test")
    port, (s,) = remotetest.sinks(["127.0.0.2"], {"127.0.0.2": {"tls": cert, "auth": {"u": "pw"},
                                                                "auth_required": True}})
    env = {"TERN_SMTP_PORT": str(port)}
    home = tern.make_home({"smtproutes": [":[127.0.0.2]"], "smtpauth": ["[127.0.0.2]:u:pw"],
                           "timeoutconnect": "30", "timeoutremote": "30"})
    os.chmod(os.path.join(home, "control", "smtpauth"), 0o600)
    recs, err, rc = remotetest.run(home, "far.test", "a@y.test", ["r@far.test"], b"Subject: a\n\nx\n", env=env)
    tap.ok(rc == 0 and recs and recs[0][0] == "K", "AUTH to the bracketed relay: delivered", (recs, err))
    tap.is_(s.auth_attempts[:1], [("PLAIN", "u", "pw")], "the credentials of [127.0.0.2] were used")
    other = tern.make_home({"smtproutes": [":[127.0.0.2]"], "smtpauth": ["[127.0.0.9]:u:pw"],
                            "timeoutconnect": "30", "timeoutremote": "30"})
    os.chmod(os.path.join(other, "control", "smtpauth"), 0o600)
    recs, err, rc = remotetest.run(other, "far.test", "a@y.test", ["r@far.test"], b"Subject: a\n\nx\n", env=env)
    tap.ok(recs and recs[0][0] == "Z", "530 at MAIL without credentials: temporary, not a bounce", recs)
    tap.like(err, "control/smtpauth has no entry for this relay", "the log line says what is missing")


def main():
    smarthost_auth()
    ipv6_literal()
    first_delay()
    smtpd_params()
    reports()
    ret_full()
    delays()


tap.main(main)
