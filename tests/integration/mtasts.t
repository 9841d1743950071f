#!/usr/bin/env python3
# MTA-STS (RFC 8461) in tern-remote: the _mta-sts TXT record from dnsmasq,
# the policy from a local HTTPS server with a test CA, sinks with and
# without STARTTLS: enforce refuses the MX outside the policy and the
# plaintext one, testing logs and delivers, tlsroutes keeps priority, the
# cache serves while the policy server is gone, a new id fetches again.
import os
import socket
import tap
import tern
import sink
import remotetest
import mtastsserver

MSG = b"Subject: sts\n\nhello\n"


def pol(mode, *mx, age=86400):
    return "version: STSv1\r\nmode: %s\r\n%smax_age: %d\r\n" % (mode, "".join("mx: %s\r\n" % m for m in mx), age)


def main():
    d = tern.tmpdir()
    ca = sink.make_ca(d)
    mxcert = mtastsserver.make_cert(d, ["mx.enf.test", "mx1.wild.test", "mx.prio.test"], ca, "mx")
    webnames = ["mta-sts.%s.test" % x for x in ("enf", "nomatch", "plain", "tst", "wild", "prio", "big", "html", "none",
                                                   "tstcert", "tstgood")]
    webcert = mtastsserver.make_cert(d, webnames, ca, "web")
    selfsigned = sink.make_cert(d, "mx.nomatch.test")
    policies = {
        "mta-sts.enf.test": pol("enforce", "mx.enf.test"),
        "mta-sts.nomatch.test": pol("enforce", "*.elsewhere.test"),
        "mta-sts.plain.test": pol("enforce", "mx.plain.test"),
        "mta-sts.tst.test": pol("testing", "mx.other.test"),
        "mta-sts.wild.test": pol("enforce", "*.wild.test"),
        "mta-sts.prio.test": pol("enforce", "*.elsewhere.test"),
        "mta-sts.big.test": pol("enforce", *(["mx%d.big.test" % i for i in range(20)])),
        "mta-sts.html.test": (200, "text/html", "<html>policy</html>"),
        "mta-sts.none.test": pol("none"),
        "mta-sts.tstcert.test": pol("testing", "mx.tstcert.test"),
        "mta-sts.tstgood.test": pol("testing", "mx.enf.test"),
    }
    web = mtastsserver.Server("127.0.0.20", webcert, policies).start()
    opts = {"127.0.0.2": {"tls": mxcert}, "127.0.0.3": {}, "127.0.0.4": {"tls": selfsigned}}
    port, sk = remotetest.sinks(sorted(opts), opts)
    S = dict(zip(sorted(opts), sk))

    def records(sts_id):
        r = ["--host-record=mx.enf.test,127.0.0.2", "--host-record=mx1.wild.test,127.0.0.2",
             "--host-record=mx.prio.test,127.0.0.2", "--host-record=mx.plain.test,127.0.0.3",
             "--host-record=mx.tst.test,127.0.0.3", "--host-record=mx.nomatch.test,127.0.0.4",
             "--host-record=mx.none.test,127.0.0.3", "--host-record=mx.big.test,127.0.0.3",
             "--host-record=mx.html.test,127.0.0.3", "--host-record=mx.no.test,127.0.0.3",
             "--host-record=mx.tstcert.test,127.0.0.4"]
        for dom, mx in (("enf", "mx.enf.test"), ("nomatch", "mx.nomatch.test"), ("plain", "mx.plain.test"),
                        ("tst", "mx.tst.test"), ("wild", "mx1.wild.test"), ("prio", "mx.prio.test"),
                        ("big", "mx.big.test"), ("html", "mx.html.test"), ("none", "mx.none.test"),
                        ("no", "mx.no.test"), ("tstcert", "mx.tstcert.test"), ("tstgood", "mx.enf.test")):
            r.append("--mx-host=%s.test,%s,10" % (dom, mx))
            if dom != "no":
                r.append('--txt-record=_mta-sts.%s.test,v=STSv1; id=%s;' % (dom, sts_id))
                r.append("--host-record=mta-sts.%s.test,127.0.0.20" % dom)
        return r

    dnsp, dns = tern.dnsmasq(records("first1"))
    env = {"TERN_SMTP_PORT": str(port), "TERN_DNS": dns, "TERN_MTASTS_PORT": str(web.port)}
    home = tern.make_home({"tlsca": ca[0], "tlsroutes": ["prio.test:may"], "timeoutconnect": "30",
                           "timeoutremote": "30", "ipme": "127.0.0.1"})
    os.makedirs(os.path.join(home, "mtasts"))

    def run(domain, h=None):
        recs, err, rc = remotetest.run(h or home, domain, "a@y.test", ["u@" + domain], MSG, env=env)
        tap.is_(rc, 0, "%s: exit 0" % domain)
        st, text = recs[0] if recs else ("?", "")
        return st, text, err

    def fetches(name):
        return sum(1 for h, _ in web.requests if h == name)

    s2, s3, s4 = S["127.0.0.2"], S["127.0.0.3"], S["127.0.0.4"]

    st, text, err = run("enf.test")
    tap.ok(st == "K" and "verified" in text, "enforce: matching MX, verified TLS: delivered", (text, err))
    tap.like(err, "policy for enf.test: mta-sts enforce (id first1, fetched)", "the log names the policy")
    tap.ok(s2.wait(1) == 1 and s2.transactions[0]["tls"], "the sink saw TLS")
    tap.is_(web.requests[0], ("mta-sts.enf.test", "/.well-known/mta-sts.txt"), "the policy was asked for at its well-known place")
    with open(os.path.join(home, "mtasts", "enf.test")) as f:
        cached = f.read()
    tap.ok(cached.startswith("tern-mtasts 1\nid first1\n") and "mode: enforce" in cached, "the policy is cached", cached)
    tap.ok(not [n for n in os.listdir(os.path.join(home, "mtasts")) if n.startswith(".") or "tmp" in n],
           "no temporary file left")

    st, text, err = run("enf.test")
    tap.ok(st == "K" and fetches("mta-sts.enf.test") == 1, "second delivery: no new fetch", web.requests)
    tap.like(err, "mta-sts enforce (id first1, cached)", "the log says cached")

    st, text, err = run("nomatch.test")
    tap.ok(st == "Z" and "no MX host matches" in text, "enforce: no matching MX: deferred", text)
    tap.is_(len(s4.transactions) + s4.sessions, 0, "the non-matching MX was not even contacted")

    st, text, err = run("plain.test")
    tap.ok(st == "Z" and "MTA-STS enforce" in text and "STARTTLS" in text, "enforce: MX without STARTTLS: deferred", text)
    tap.is_(len(s3.transactions), 0, "nothing sent in plaintext")

    st, text, err = run("wild.test")
    tap.ok(st == "K" and "verified" in text, "enforce: *.wild.test matches mx1.wild.test", (text, err))

    st, text, err = run("tst.test")
    tap.is_(st, "K", "testing: delivered although the MX does not match and has no TLS")
    tap.like(err, "mta-sts testing", "the log names the testing policy")
    tap.like(err, "MX mx.tst.test does not match the policy (enforce would skip it)", "what enforce would skip is logged")
    tap.like(err, "without TLS (enforce would have deferred)", "the plaintext delivery is logged")

    st, text, err = run("tstcert.test")
    tap.is_(st, "K", "testing: delivered over TLS with a certificate that would not verify")
    tap.ok("delivered to mx.tstcert.test [127.0.0.4] over TLS, but certificate" in err and "(enforce would have deferred)" in err,
           "the certificate enforce would refuse (self-signed, another name) is logged", err)
    st, text, err = run("tstgood.test")
    tap.ok(st == "K" and "enforce would" not in err, "testing with a matching MX and a valid certificate: nothing to log", err)

    st, text, err = run("prio.test")
    tap.ok(st == "K" and "policy for prio.test: tlsroutes may" in err, "tlsroutes keeps priority over MTA-STS", (text, err))
    tap.is_(fetches("mta-sts.prio.test"), 0, "no policy fetched for a tlsroutes domain")

    catchall = tern.make_home({"tlsca": ca[0], "tlsroutes": [":none"], "ipme": "127.0.0.1"})
    os.makedirs(os.path.join(catchall, "mtasts"))
    st, text, err = run("enf.test", catchall)
    tap.ok(st == "K" and "verified" in text and "mta-sts enforce" in err,
           "a catch-all tlsroutes line (:none) is a default: MTA-STS enforce still applies", (text, err))
    st, text, err = run("tst.test", catchall)
    tap.ok(st == "K" and "mta-sts testing" in err and not s3.transactions[-1]["tls"],
           "under testing the catch-all default stays", err)

    st, text, err = run("no.test")
    tap.ok(st == "K" and "no _mta-sts TXT record" in err, "no TXT record: no policy", err)

    st, text, err = run("none.test")
    tap.ok(st == "K" and "mta-sts none" in err, "mode none: delivered as usual", err)

    st, text, err = run("html.test")
    tap.ok(st == "K" and "not served as text/plain" in err, "a policy served as text/html is no policy", err)

    small = tern.make_home({"tlsca": ca[0], "mtastsmaxbytes": "100", "ipme": "127.0.0.1"})
    st, text, err = run("big.test", small)
    tap.ok(st == "K" and "too large" in err, "control/mtastsmaxbytes: a larger policy is refused", err)
    st, text, err = run("big.test")
    tap.ok(st == "Z" and "no MX host matches" in text, "the same policy under the default limit applies", text)

    # A policy server that accepts and never answers: control/mtaststimeout ends the wait.
    hang = socket.socket()
    hang.bind(("127.0.0.20", 0))
    hang.listen(8)
    slow = tern.make_home({"tlsca": ca[0], "mtaststimeout": "1", "ipme": "127.0.0.1"})
    recs, err, rc = remotetest.run(slow, "tst.test", "a@y.test", ["u@tst.test"], MSG,
                                   env=dict(env, TERN_MTASTS_PORT=str(hang.getsockname()[1])))
    st = recs[0][0] if recs else "?"
    tap.ok(st == "K" and "policy fetch failed" in err and "timed out" in err,
           "control/mtaststimeout: a policy server that never answers is given up on", err)
    hang.close()

    bad = tern.make_home({"tlsca": selfsigned[0], "ipme": "127.0.0.1"})
    st, text, err = run("tst.test", bad)
    tap.ok(st == "K" and "policy fetch failed" in err and "not trusted" in err,
           "a policy server with an untrusted certificate: no policy", err)

    # The TXT id changes: fetched again (and the cache replaced).
    policies_before = fetches("mta-sts.enf.test")
    tern.stop(dnsp)
    dnsp, dns = tern.dnsmasq(records("second2"))
    env["TERN_DNS"] = dns
    web.policies["mta-sts.enf.test"] = pol("enforce", "mx.enf.test", "mx.spare.test")
    st, text, err = run("enf.test")
    tap.ok(st == "K" and fetches("mta-sts.enf.test") == policies_before + 1, "a new id: fetched again", err)
    tap.like(err, "id second2, fetched, the id changed", "the log says why")
    with open(os.path.join(home, "mtasts", "enf.test")) as f:
        tap.like(f.read(), "mx.spare.test", "the cache holds the new policy")

    # The policy server goes away, and the id changes again: the cache serves.
    web.stop()
    tern.stop(dnsp)
    dnsp, dns = tern.dnsmasq(records("third3"))
    env["TERN_DNS"] = dns
    st, text, err = run("enf.test")
    tap.ok(st == "K" and "verified" in text, "policy server gone: delivered under the cached policy", (text, err))
    tap.like(err, "mta-sts enforce (id second2, cached; policy fetch failed", "the log says the cached policy applied")
    st, text, err = run("nomatch.test")
    tap.ok(st == "Z" and "no MX host matches" in text, "the cached enforce policy still refuses the wrong MX", text)
    plain_before = len(s3.transactions)
    st, text, err = run("plain.test")
    tap.ok(st == "Z" and "STARTTLS" in text, "and still refuses plaintext", text)
    tap.is_(len(s3.transactions), plain_before, "nothing reached the plaintext sink")

    # The cache expires (max_age): without the server, no policy is left.
    path = os.path.join(home, "mtasts", "plain.test")
    with open(path) as f:
        rec = f.read()
    with open(path, "w") as f:
        f.write(rec.replace(rec.split("\n")[2], "fetched 1000"))
    st, text, err = run("plain.test")
    tap.ok(st == "K" and "policy for plain.test: none (policy fetch failed" in err, "an expired cached policy is not used", err)

    # A broken cache file is ignored, never trusted.
    with open(path, "w") as f:
        f.write("garbage\n")
    st, text, err = run("plain.test")
    tap.is_(st, "K", "a broken cache file: as no cache")

    tern.stop(dnsp)
    for x in sk:
        x.stop()


tap.main(main)
