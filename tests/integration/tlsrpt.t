#!/usr/bin/env python3
# SMTP TLS reporting (RFC 8460): tern-remote records each session's TLS
# outcome in HOME/tlsrpt/DAY; tern-tlsrpt turns a finished day into one
# aggregate JSON report per domain that publishes _smtp._tls, mailed through
# tern-inject to the rua mailboxes (here local Maildirs, delivered by
# tern-send), and sweeps the expired MTA-STS cache entries.
import email
import email.policy
import json
import os
import subprocess
import time
import tap
import tern
import sink
import deliver
import remotetest
import queuefile
import mtastsserver

MSG = b"Subject: rpt\n\nhello\n"
POL = "version: STSv1\r\nmode: enforce\r\n%smax_age: 86400\r\n"


def day(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def records(path):
    try:
        with open(path) as f:
            return [l.split(" ") for l in f.read().splitlines()]
    except FileNotFoundError:
        return []


def reports(home, user):
    """(message, JSON report) of each mail in user's Maildir."""
    out = []
    for raw in deliver.maildir_new(home, user):
        m = email.message_from_bytes(raw, policy=email.policy.default)
        part = [p for p in m.walk() if p.get_content_type() == "application/tlsrpt+json"]
        out.append((m, json.loads(part[0].get_payload(decode=True)) if part else None))
    return out


def txt(name, text):
    """A TXT record with commas in it: dnsmasq's --txt-record splits at every comma."""
    t = text.encode()
    return "--dns-rr=%s,16,%s" % (name, (bytes([len(t)]) + t).hex())


def main():
    d = tern.tmpdir()
    ca = sink.make_ca(d)
    mxcert = mtastsserver.make_cert(d, ["mx2.rpt.test", "mx.ff.test", "mx.pki.test", "mx.quiet.test", "mx.nomx.test"], ca, "mx")
    # mta-sts.pki.test is served with a certificate not valid for it: sts-webpki-invalid
    webcert = mtastsserver.make_cert(d, ["mta-sts.rpt.test", "mta-sts.nomx.test", "mta-sts.tst.test", "mta-sts.tmx.test"], ca, "web")
    selfsigned = sink.make_cert(d, "mx.tst.test")
    web = mtastsserver.Server("127.0.0.20", webcert, {
        "mta-sts.rpt.test": POL % "mx: *.rpt.test\r\n",
        "mta-sts.nomx.test": POL % "mx: *.elsewhere.test\r\n",
        "mta-sts.pki.test": POL % "mx: mx.pki.test\r\n",
        "mta-sts.tst.test": (POL % "mx: mx.tst.test\r\n").replace("enforce", "testing"),
        "mta-sts.tmx.test": (POL % "mx: mx.other.test\r\n").replace("enforce", "testing")}).start()
    port, sk = remotetest.sinks(["127.0.0.2", "127.0.0.3", "127.0.0.4"],
                                {"127.0.0.2": {"tls": mxcert}, "127.0.0.3": {}, "127.0.0.4": {"tls": selfsigned}})
    rua = "v=TLSRPTv1; rua=mailto:tlsrpt@ex.test"
    recs = ["--mx-host=rpt.test,mx1.rpt.test,10", "--mx-host=rpt.test,mx2.rpt.test,20",
            "--host-record=mx1.rpt.test,127.0.0.3", "--host-record=mx2.rpt.test,127.0.0.2",
            "--txt-record=_mta-sts.rpt.test,v=STSv1; id=r1;", "--host-record=mta-sts.rpt.test,127.0.0.20",
            txt("_smtp._tls.rpt.test", "v=TLSRPTv1; rua=mailto:tlsrpt@ex.test, mailto:%73econd@ex.test"),
            "--txt-record=_smtp._tls.rpt.test,v=spf1 -all",
            "--mx-host=plain.test,mx.plain.test,10", "--host-record=mx.plain.test,127.0.0.3",
            "--txt-record=_smtp._tls.plain.test," + rua,
            "--mx-host=ff.test,mx.ff.test,10", "--host-record=mx.ff.test,127.0.0.2",
            "--txt-record=_mta-sts.ff.test,v=STSv1; id=f1;", "--host-record=mta-sts.ff.test,127.0.0.21",
            "--txt-record=_smtp._tls.ff.test," + rua,
            "--mx-host=pki.test,mx.pki.test,10", "--host-record=mx.pki.test,127.0.0.2",
            "--txt-record=_mta-sts.pki.test,v=STSv1; id=p1;", "--host-record=mta-sts.pki.test,127.0.0.20",
            txt("_smtp._tls.pki.test", "v=TLSRPTv1; rua=mailto:tlsrpt@ex.test,https://rpt.pki.test/r"),
            "--mx-host=nomx.test,mx.nomx.test,10", "--host-record=mx.nomx.test,127.0.0.2",
            "--txt-record=_mta-sts.nomx.test,v=STSv1; id=n1;", "--host-record=mta-sts.nomx.test,127.0.0.20",
            "--txt-record=_smtp._tls.nomx.test," + rua,
            "--mx-host=tst.test,mx.tst.test,10", "--host-record=mx.tst.test,127.0.0.4",
            "--txt-record=_mta-sts.tst.test,v=STSv1; id=t1;", "--host-record=mta-sts.tst.test,127.0.0.20",
            "--txt-record=_smtp._tls.tst.test," + rua,
            "--mx-host=tmx.test,mx.quiet.test,10", "--txt-record=_mta-sts.tmx.test,v=STSv1; id=m1;",
            "--host-record=mta-sts.tmx.test,127.0.0.20",
            "--mx-host=tlsr.test,mx.tlsr.test,10", "--host-record=mx.tlsr.test,127.0.0.2",
            "--txt-record=_smtp._tls.tlsr.test," + rua,
            "--mx-host=quiet.test,mx.quiet.test,10", "--host-record=mx.quiet.test,127.0.0.2",
            "--mx-host=web.test,mx.quiet.test,10",
            "--txt-record=_smtp._tls.web.test,v=TLSRPTv1; rua=https://rpt.web.test/r",
            "--mx-host=two.test,mx.quiet.test,10",
            "--txt-record=_smtp._tls.two.test," + rua, "--txt-record=_smtp._tls.two.test,v=TLSRPTv1; rua=mailto:x@ex.test"]
    dnsp, dns = tern.dnsmasq(recs)
    home = deliver.instance(users=["tlsrpt@ex.test", "second@ex.test", "x@ex.test"],
                            control={"tlsca": ca[0], "tlsroutes": ["tlsr.test:verify"], "timeoutconnect": "30", "timeoutremote": "30", "ipme": "127.0.0.1"})
    os.makedirs(os.path.join(home, "mtasts"))
    os.makedirs(os.path.join(home, "tlsrpt"))
    env = {"TERN_SMTP_PORT": str(port), "TERN_DNS": dns, "TERN_MTASTS_PORT": str(web.port)}

    def send(domain):
        res, err, rc = remotetest.run(home, domain, "a@y.test", ["u@" + domain], MSG, env=env)
        return (res[0][0] if res else "?"), err

    # the sessions
    for i in (1, 2):
        st, err = send("rpt.test")
        tap.ok(st == "K" and "mta-sts enforce" in err, "rpt.test %d: delivered to mx2 under enforce, mx1 refused" % i, err)
    st, err = send("plain.test")
    tap.is_(st, "K", "plain.test: delivered without TLS (no policy)")
    st, err = send("ff.test")
    tap.ok(st == "K" and "policy fetch failed" in err, "ff.test: policy server unreachable, delivered as without a policy", err)
    st, err = send("pki.test")
    tap.ok(st == "K" and "certificate" in err, "pki.test: policy server's certificate wrong, delivered as without a policy", err)
    st, err = send("nomx.test")
    tap.ok(st == "Z", "nomx.test: no MX matches the enforce policy: deferred", err)
    for dom in ("quiet.test", "web.test", "two.test"):
        st, err = send(dom)
        tap.is_(st, "K", dom + ": delivered over TLS, no policy")
    st, err = send("tst.test")
    tap.ok(st == "K" and "certificate not trusted" in err, "tst.test: testing, self-signed certificate: delivered, logged", err)
    st, err = send("tmx.test")
    tap.ok(st == "K" and "does not match the policy" in err, "tmx.test: testing, MX outside the policy: delivered, logged", err)
    st, err = send("tlsr.test")
    tap.ok(st == "Z" and "does not match" in err, "tlsr.test: tlsroutes verify, certificate for other names: deferred", err)

    # concurrent runs: every record whole, none interleaved
    procs = []
    for i in range(12):
        qf = queuefile.write(tern.tmpdir(), MSG, "a@y.test", ["u@quiet.test"])
        procs.append(subprocess.Popen([tern.prog("tern-remote"), "quiet.test", "a@y.test", "u@quiet.test"],
                                      stdin=open(qf, "rb"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=dict(os.environ, TERN_HOME=home, **env)))
    tap.ok(all(p.wait(timeout=120) == 0 for p in procs), "12 concurrent tern-remote runs")

    now = time.time()
    today = os.path.join(home, "tlsrpt", day(now))
    lines = records(today)
    tap.is_(len(lines), 26, "one record per session, and one for the delivery stopped before any")
    byd = {}
    for l in lines:
        byd.setdefault(l[2], []).append(l)
    tap.ok(all(len(l) == 9 and l[0] == "t1" for l in lines), "records of 9 fields", lines)
    tap.is_(sorted((l[3], l[4], l[5]) for l in byd["rpt.test"]),
            [("sts", "starttls-not-supported", "mx1.rpt.test")] * 2 + [("sts", "success", "mx2.rpt.test")] * 2,
            "rpt.test: starttls-not-supported at mx1, success at mx2, twice")
    tap.is_(byd["rpt.test"][0][8], "enforce,86400,*.rpt.test", "the policy is in the record")
    tap.is_([(l[3], l[4]) for l in byd["plain.test"]], [("no-policy-found", "starttls-not-supported")], "plain.test")
    tap.is_([(l[3], l[4]) for l in byd["ff.test"]], [("sts", "sts-policy-fetch-error")], "ff.test: sts-policy-fetch-error")
    tap.is_([(l[3], l[4]) for l in byd["pki.test"]], [("sts", "sts-webpki-invalid")], "pki.test: sts-webpki-invalid")
    tap.is_([(l[3], l[4], l[5]) for l in byd["nomx.test"]], [("sts", "validation-failure", "-")],
            "nomx.test: validation-failure without a session")
    tap.is_([(l[3], l[4]) for l in byd["tst.test"]], [("sts", "certificate-not-trusted")], "tst.test: certificate-not-trusted")
    tap.is_([(l[3], l[4], l[5]) for l in byd["tmx.test"]], [("sts", "validation-failure", "mx.quiet.test")],
            "tmx.test: testing, MX outside the policy: validation-failure")
    tap.is_([(l[3], l[4]) for l in byd["tlsr.test"]], [("tlsroutes", "certificate-host-mismatch")],
            "tlsr.test: tlsroutes, certificate-host-mismatch")
    tap.ok(len(byd["quiet.test"]) == 13 and all(l[4] == "success" and l[5] == "mx.quiet.test" for l in byd["quiet.test"]),
           "the concurrent runs' records are whole", byd["quiet.test"])
    tap.is_(os.stat(today).st_mode & 0o777, 0o600, "the record file is mode 600")

    # a finished day: yesterday; a line cut short and a foreign one are skipped
    yday = day(now - 86400)
    ypath = os.path.join(home, "tlsrpt", yday)
    with open(today) as f:
        body = f.read()
    os.rename(today, ypath)
    with open(ypath, "a") as f:
        f.write("t1 1 rpt.test sts success mx2.rpt.test 127.0.0.2\nrm -rf /\nt1 1 rpt.test sts success")
    old = os.path.join(home, "tlsrpt", day(now - 30 * 86400))
    with open(old, "w") as f:
        f.write(body)
    with open(os.path.join(home, "tlsrpt", "notes.txt"), "w") as f:
        f.write("not a day\n")
    with open(os.path.join(home, "tlsrpt", day(now)), "w") as f:
        f.write(body)

    # the MTA-STS cache: one expired entry, one broken, one fresh, a stale temporary file
    mt = os.path.join(home, "mtasts")
    with open(os.path.join(mt, "gone.test"), "w") as f:
        f.write("tern-mtasts 1\nid g1\nfetched %d\n\nversion: STSv1\nmode: testing\nmx: a.test\nmax_age: 10\n" % (now - 100))
    with open(os.path.join(mt, "broken.test"), "w") as f:
        f.write("garbage\n")
    with open(os.path.join(mt, "fresh.test"), "w") as f:
        f.write("tern-mtasts 1\nid f1\nfetched %d\n\nversion: STSv1\nmode: testing\nmx: a.test\nmax_age: 86400\n" % (now - 100))
    tmp = os.path.join(mt, "fresh.test.tmp.123")
    with open(tmp, "w") as f:
        f.write("x")
    os.utime(tmp, (now - 7200, now - 7200))
    newtmp = os.path.join(mt, "rpt.test.tmp.456")
    with open(newtmp, "w") as f:
        f.write("x")

    def tlsrpt(args=(), extra=None, dnsaddr=dns):
        e = deliver.env(home, {"TERN_DNS": dnsaddr})
        e.update(extra or {})
        r = subprocess.run([tern.prog("tern-tlsrpt")] + list(args), env=e, capture_output=True, timeout=120)
        return r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")

    # DNS down: nothing sent, the day kept; the 30-day-old one given up
    dead = "127.0.0.1:%d" % tern.free_udp_port()
    with open(os.path.join(home, "control", "tlsrpttimeout"), "w") as f:
        f.write("2\n")
    rc, out, err = tlsrpt(["-S"], dnsaddr=dead)
    tap.is_(rc, 111, "DNS trouble: exit 111")
    tap.like(err, "report for rpt.test left for the next run: TXT lookup failed", "and says what is left")
    tap.ok(os.path.exists(ypath) and not os.path.exists(old), "yesterday kept; a day older than tlsrptkeepdays given up", err)
    tap.like(err, "giving up the reports of " + day(now - 30 * 86400), "the giving up is logged")
    tap.ok(os.path.exists(os.path.join(mt, "gone.test")), "-S: no sweep")

    # the size knob, in a dry run
    with open(os.path.join(home, "control", "tlsrptmaxbytes"), "w") as f:
        f.write("300\n")
    rc, out, err = tlsrpt(["-n"])
    tap.like(err, "larger than control/tlsrptmaxbytes", "control/tlsrptmaxbytes: the rest is not read")
    os.unlink(os.path.join(home, "control", "tlsrptmaxbytes"))

    rc, out, err = tlsrpt(["-n"])
    tap.is_(rc, 0, "dry run: exit 0")
    tap.ok(out.count("Content-Type: application/tlsrpt+json") == 7, "dry run: seven reports on stdout", err)
    tap.ok(os.path.exists(ypath) and os.path.exists(os.path.join(mt, "gone.test")), "dry run: nothing removed")
    tap.like(err, "3 lines that are not records skipped", "the cut and foreign lines are skipped")

    p, log = deliver.start_send(home)
    rc, out, err = tlsrpt()
    tap.ok(rc == 0, "exit 0", err)
    tap.like(err, "report for rpt.test of %s sent to tlsrpt@ex.test and others: 2 successful, 2 failed sessions" % yday,
             "the log says what was sent")
    tap.like(err, "report for pki.test: https reporting addresses are not supported, skipped", "https rua: a log line")
    tap.ok("web.test" in err and "report for web.test of" not in err, "https only: nothing sent", err)
    tap.ok("two.test of" not in err and "quiet.test of" not in err, "no report for two TLSRPT records or none", err)
    tap.ok(not os.path.exists(ypath) and not os.path.exists(ypath + ".sent"), "the day and its .sent are removed")
    tap.ok(os.path.exists(os.path.join(home, "tlsrpt", day(now))), "today is not reported yet")
    tap.ok(os.path.exists(os.path.join(home, "tlsrpt", "notes.txt")), "other files are left alone")

    tap.ok(deliver.wait_maildir(home, "tlsrpt", 7) and deliver.wait_maildir(home, "second", 1),
           "seven reports for tlsrpt@, one for the second rua address (percent-decoded)")
    reps = {m["TLS-Report-Domain"]: (m, j) for m, j in reports(home, "tlsrpt")}
    tap.is_(sorted(reps), ["ff.test", "nomx.test", "pki.test", "plain.test", "rpt.test", "tlsr.test", "tst.test"],
            "one report per domain")
    m, j = reps["rpt.test"]
    tap.like(m["Content-Type"], 'multipart/report; report-type="tlsrpt"', "multipart/report; report-type=tlsrpt")
    tap.is_(m["TLS-Report-Submitter"], "mx.ex.test", "TLS-Report-Submitter: control/me")
    tap.ok(m["Subject"].startswith("Report Domain: rpt.test Submitter: mx.ex.test Report-ID: <%s." % yday), "Subject", m["Subject"])
    tap.is_(m["From"], "postmaster@mx.ex.test", "From: postmaster@me")
    tap.like(deliver.maildir_new(home, "tlsrpt")[0], b"Return-Path: <postmaster@mx.ex.test>", "envelope sender")
    fn = [p.get_filename() for p in m.walk() if p.get_content_type() == "application/tlsrpt+json"][0]
    tap.like(fn, "mx.ex.test!rpt.test!", "the file name of RFC 8460 5.3")
    tap.ok(j is not None, "the JSON parses")
    tap.is_(j["organization-name"], "mx.ex.test", "organization-name")
    tap.is_(j["date-range"], {"start-datetime": yday + "T00:00:00Z", "end-datetime": yday + "T23:59:59Z"}, "date-range")
    tap.is_(j["contact-info"], "postmaster@mx.ex.test", "contact-info")
    tap.like(j["report-id"], yday + ".", "report-id")
    tap.is_(len(j["policies"]), 1, "one policy")
    pol = j["policies"][0]
    tap.is_(pol["policy"], {"policy-type": "sts", "policy-domain": "rpt.test", "mx-host": ["*.rpt.test"],
                            "policy-string": ["version: STSv1", "mode: enforce", "mx: *.rpt.test", "max_age: 86400"]},
            "the policy")
    tap.is_(pol["summary"], {"total-successful-session-count": 2, "total-failure-session-count": 2}, "the counts")
    fd = pol["failure-details"]
    tap.ok(len(fd) == 1 and fd[0]["result-type"] == "starttls-not-supported" and fd[0]["failed-session-count"] == 2
           and fd[0]["receiving-mx-hostname"] == "mx1.rpt.test" and fd[0]["receiving-ip"] == "127.0.0.3"
           and fd[0]["sending-mta-ip"].startswith("127."), "failure-details", fd)

    def one(dom):
        pol = reps[dom][1]["policies"]
        return (len(pol), pol[0]["policy"]["policy-type"], pol[0]["summary"],
                [(x["result-type"], x["failed-session-count"]) for x in pol[0].get("failure-details", [])])
    F1 = {"total-successful-session-count": 0, "total-failure-session-count": 1}
    tap.is_(one("plain.test"), (1, "no-policy-found", F1, [("starttls-not-supported", 1)]), "plain.test report")
    tap.is_(one("ff.test"), (1, "sts", F1, [("sts-policy-fetch-error", 1)]), "ff.test report")
    tap.is_(one("pki.test"), (1, "sts", F1, [("sts-webpki-invalid", 1)]), "pki.test report")
    tap.is_(one("nomx.test"), (1, "sts", F1, [("validation-failure", 1)]), "nomx.test report")
    tap.is_(one("tst.test"), (1, "sts", F1, [("certificate-not-trusted", 1)]), "tst.test report")
    tap.is_(one("tlsr.test"), (1, "no-policy-found", F1, [("certificate-host-mismatch", 1)]), "tlsr.test report: tlsroutes is no-policy-found")
    tap.is_(reps["tst.test"][1]["policies"][0]["policy"]["policy-string"][1], "mode: testing", "tst.test: mode testing")
    tap.ok("policy-string" not in reps["ff.test"][1]["policies"][0]["policy"], "no policy-string when none was fetched")
    tap.is_(reps["nomx.test"][1]["policies"][0]["policy"]["mx-host"], ["*.elsewhere.test"], "nomx.test: the policy's mx")

    tap.ok(not os.path.exists(os.path.join(mt, "gone.test")) and not os.path.exists(os.path.join(mt, "broken.test")),
           "sweep: the expired and the broken cache entries removed")
    tap.ok(os.path.exists(os.path.join(mt, "fresh.test")) and os.path.exists(os.path.join(mt, "rpt.test")),
           "sweep: valid entries kept")
    tap.ok(not os.path.exists(tmp) and os.path.exists(newtmp), "sweep: a stale temporary file removed, a recent one kept")
    tap.like(err, "MTA-STS cache: 3 expired entries removed", "the sweep is logged")

    orphan = os.path.join(home, "tlsrpt", day(now - 3 * 86400) + ".sent")
    with open(orphan, "w") as f:
        f.write("rpt.test\n")
    rc, out, err = tlsrpt()
    tap.ok(rc == 0 and " sent to " not in err, "a second run sends nothing", err)
    tap.ok(not os.path.exists(orphan), "a .sent without its day is removed")

    # a run cut short: what .sent lists is not sent again
    with open(ypath, "w") as f:
        f.write(body)
    with open(ypath + ".sent", "w") as f:
        f.write("rpt.test\nplain.test\nff.test\npki.test\ntst.test\ntlsr.test\n")
    rc, out, err = tlsrpt(["-S"])
    tap.ok(rc == 0 and "report for nomx.test of" in err and err.count(" sent to ") == 1, "after a cut: only the domain not sent", err)
    tap.ok(deliver.wait_maildir(home, "tlsrpt", 8), "and it arrives")
    tern.stop(p)
    tern.stop(dnsp)


tap.main(main)
