#!/usr/bin/env python3
# tern-remote as a TLS client: opportunistic STARTTLS, control/tlsroutes
# policies (none, may, encrypt, verify), fallback to plaintext, and AUTH to a
# relay with control/smtpauth.
import os
import tap
import tern
import sink
import remotetest

MSG = b"Subject: t\n\nhello\n"


def main():
    d = tern.tmpdir()
    ca = sink.make_ca(d)
    signed = sink.make_cert(d, "relay.tls.test", ca=ca)
    selfsigned = sink.make_cert(d, "self.tls.test")
    auth = {"u": "p:w x"}
    opts = {
        "127.0.0.2": {"tls": selfsigned},
        "127.0.0.3": {},
        "127.0.0.4": {"tls": signed},
        "127.0.0.5": {"tls": selfsigned, "tls13_only": True},
        "127.0.0.6": {"tls": selfsigned, "replies": {"starttls": "454 4.7.0 TLS not available"}},
        "127.0.0.7": {"tls": selfsigned, "auth": auth, "auth_required": True},
        "127.0.0.8": {"tls": selfsigned, "auth": auth, "auth_required": True, "auth_mechs": "LOGIN"},
        "127.0.0.9": {"auth": auth, "auth_required": True},
        "127.0.0.10": {"tls": selfsigned, "starttls_inject": "250 2.0.0 injected\r\n"},
    }
    addrs = sorted(opts, key=lambda a: int(a.split(".")[-1]))
    port, sk = remotetest.sinks(addrs, opts)
    S = dict(zip(addrs, sk))
    _, dns = tern.dnsmasq(["--host-record=relay.tls.test,127.0.0.4", "--host-record=other.tls.test,127.0.0.4",
                           "--host-record=self.tls.test,127.0.0.2"])
    env = {"TERN_SMTP_PORT": str(port), "TERN_DNS": dns}
    routes = ["opp.test:[127.0.0.2]", "none.test:[127.0.0.2]", "enc.test:[127.0.0.3]",
              "ver.test:relay.tls.test", "badname.test:other.tls.test", "untrusted.test:self.tls.test",
              "tls13.test:[127.0.0.5]", "refused.test:[127.0.0.6]", "plain.test:[127.0.0.3]",
              "auth.test:[127.0.0.7]", "login.test:[127.0.0.8]", "noauthtls.test:[127.0.0.9]",
              "inject.test:[127.0.0.10]"]
    tlsroutes = ["none.test:none", "enc.test:encrypt", "ver.test:verify", "badname.test:verify",
                 "untrusted.test:verify", "tls13.test:may"]
    home = tern.make_home({"smtproutes": routes, "tlsroutes": tlsroutes, "tlsca": ca[0],
                           "smtpauth": ["127.0.0.7:u:p:w x", "127.0.0.8:u:p:w x", "127.0.0.9:u:p:w x"],
                           "timeoutconnect": "30", "timeoutremote": "30"})
    os.chmod(os.path.join(home, "control", "smtpauth"), 0o600)

    def run(domain, h=None):
        recs, err, rc = remotetest.run(h or home, domain, "a@y.test", ["u@" + domain], MSG, env=env)
        tap.is_(rc, 0, "%s: exit 0" % domain)
        return recs[0] if recs else ("?", err)

    s = S["127.0.0.2"]
    st, text = run("opp.test")
    tap.is_(st, "K", "opportunistic TLS with a self-signed certificate")
    tap.ok(s.wait(1) == 1 and s.transactions[0]["tls"], "the sink saw TLS", s.transactions)
    tap.like(text, "TLSv1.2", "the report names the protocol")
    tap.ok("EHLO" in s.transactions[0]["commands"][2], "EHLO again after STARTTLS", s.transactions[0]["commands"])

    st, _ = run("none.test")
    tap.ok(st == "K" and s.wait(2) == 2 and not s.transactions[1]["tls"], "policy none: no STARTTLS")
    tap.ok("STARTTLS" not in s.transactions[1]["commands"], "STARTTLS never sent")

    st, text = run("enc.test")
    tap.ok(st == "Z" and "TLS is required" in text, "policy encrypt, no STARTTLS offered: deferred", text)
    tap.is_(len(S["127.0.0.3"].transactions), 0, "nothing sent in plaintext")

    st, text = run("ver.test")
    tap.ok(st == "K" and "verified" in text, "policy verify: CA-signed certificate with the right name", text)
    tap.ok(S["127.0.0.4"].wait(1) == 1 and S["127.0.0.4"].transactions[0]["tls"], "delivered inside TLS")

    st, text = run("badname.test")
    tap.ok(st == "Z" and "does not match" in text, "policy verify: wrong name refused", text)
    st, text = run("untrusted.test")
    tap.ok(st == "Z" and "not trusted" in text, "policy verify: self-signed refused", text)
    tap.is_((len(S["127.0.0.4"].transactions), len(s.transactions)), (1, 2), "no message went to the refused hosts")

    s5 = S["127.0.0.5"]
    st, text = run("tls13.test")
    tap.is_(st, "K", "policy may: failed handshake, plaintext retry delivers")
    tap.ok(s5.wait(1) == 1 and not s5.transactions[0]["tls"] and s5.sessions == 2,
           "second connection, in plaintext", (s5.sessions, s5.transactions))
    enc13 = tern.make_home({"smtproutes": routes, "tlsroutes": ["tls13.test:encrypt"]})
    st, text = run("tls13.test", enc13)
    tap.ok(st == "Z" and "TLS" in text, "policy encrypt: failed handshake is not retried in plaintext", text)
    tap.is_(len(s5.transactions), 1, "nothing more arrived")

    st, _ = run("refused.test")
    tap.ok(st == "K" and not S["127.0.0.6"].transactions[0]["tls"], "STARTTLS refused: plaintext under may")

    st, text = run("auth.test")
    s7 = S["127.0.0.7"]
    tap.is_(st, "K", "AUTH to a relay that requires it")
    tap.ok(s7.wait(1) == 1 and s7.transactions[0]["auth"] == "u" and s7.transactions[0]["tls"], "AUTH PLAIN inside TLS")
    tap.is_(s7.auth_attempts, [("PLAIN", "u", "p:w x")], "the password with ':' and ' ' sent intact")

    st, _ = run("login.test")
    s8 = S["127.0.0.8"]
    tap.ok(st == "K" and s8.auth_attempts == [("LOGIN", "u", "p:w x")], "AUTH LOGIN when PLAIN is not offered", s8.auth_attempts)

    st, text = run("noauthtls.test")
    tap.ok(st == "Z" and "without TLS" in text, "no TLS: the password is not sent", text)
    tap.is_(S["127.0.0.9"].auth_attempts, [], "no AUTH attempt in plaintext")

    wrong = tern.make_home({"smtproutes": routes, "smtpauth": ["127.0.0.7:u:wrong"]})
    os.chmod(os.path.join(wrong, "control", "smtpauth"), 0o600)
    st, text = run("auth.test", wrong)
    tap.ok(st == "Z" and "535" in text, "wrong password: deferred with the relay's reply", text)
    tap.is_(len(s7.transactions), 1, "nothing delivered")

    loose = tern.make_home({"smtproutes": routes, "smtpauth": ["127.0.0.7:u:p:w x"]})
    os.chmod(os.path.join(loose, "control", "smtpauth"), 0o644)
    st, text = run("auth.test", loose)
    tap.ok(st == "Z" and "chmod 600" in text, "smtpauth readable by others: refused", text)

    s10 = S["127.0.0.10"]
    st, text = run("inject.test")
    tap.ok(st == "Z" and "after its STARTTLS reply" in text, "data injected before the handshake: session dropped", text)
    tap.is_(len(s10.transactions), 0, "nothing delivered")

    for x in sk:
        x.stop()


tap.main(main)
