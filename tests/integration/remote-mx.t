#!/usr/bin/env python3
# tern-remote: choosing where to deliver (MX order, failover, A fallback,
# null MX, loops, smtproutes, smarthost), with dnsmasq and sinks on loopback.
import tap
import tern
import remotetest

MSG = b"From: a@y.test\nSubject: t\n\nhello\n"


def main():
    # .2 and .3 listen; .4 has nothing listening (a dead MX); .6 says 421.
    port, (s2, s3, s6, s61) = remotetest.sinks(["127.0.0.2", "127.0.0.3", "127.0.0.6", "::1"],
                                          {"127.0.0.6": {"replies": {"greeting": "421 4.3.2 busy"}}})
    _, dns = tern.dnsmasq([
        "--mx-host=a.test,mx2.a.test,20", "--mx-host=a.test,mx1.a.test,10",
        "--host-record=mx1.a.test,127.0.0.2", "--host-record=mx2.a.test,127.0.0.3",
        "--mx-host=b.test,dead.b.test,10", "--mx-host=b.test,live.b.test,20",
        "--host-record=dead.b.test,127.0.0.4", "--host-record=live.b.test,127.0.0.3",
        "--host-record=c.test,127.0.0.2",
        "--mx-host=d.test,.,0",
        "--mx-host=e.test,busy.e.test,5", "--mx-host=e.test,mx.e.test,50",
        "--host-record=busy.e.test,127.0.0.6", "--host-record=mx.e.test,127.0.0.2",
        "--mx-host=loop.test,self.loop.test,10", "--mx-host=loop.test,other.loop.test,20",
        "--host-record=self.loop.test,127.0.0.5", "--host-record=other.loop.test,127.0.0.3",
        "--mx-host=backup.test,primary.backup.test,10", "--mx-host=backup.test,self.loop.test,20",
        "--host-record=primary.backup.test,127.0.0.3",
        "--mx-host=noaddr.test,nowhere.noaddr.test,10",
        "--host-record=relay.test,127.0.0.3",
        "--host-record=six.test,::1",
        "--mx-host=dual.test,mx.dual.test,10", "--host-record=mx.dual.test,127.0.0.4,::1",
    ])
    env = {"TERN_DNS": dns, "TERN_SMTP_PORT": str(port)}
    home = tern.make_home({"ipme": "127.0.0.5", "timeoutconnect": "30", "timeoutremote": "30"})

    def run(domain, rcpts, h=None):
        recs, err, rc = remotetest.run(h or home, domain, "a@y.test", rcpts, MSG, env=env)
        tap.is_(rc, 0, "%s: exit 0" % domain)
        return recs, err

    recs, _ = run("a.test", ["u@a.test"])
    tap.is_([r[0] for r in recs], ["K"], "preferred MX: delivered")
    tap.like(recs[0][1], "mx1.a.test [127.0.0.2] said: 250", "the report names the host and its reply")
    tap.is_((len(s2.transactions), len(s3.transactions)), (1, 0), "the preferred MX got it, not the other")

    recs, err = run("b.test", ["u@b.test"])
    tap.is_(recs[0][0], "K", "first MX down: delivered")
    tap.like(recs[0][1], "live.b.test [127.0.0.3]", "through the second MX")
    tap.like(err, "dead.b.test", "the dead MX is logged")

    recs, _ = run("c.test", ["u@c.test"])
    tap.ok(recs[0][0] == "K" and "c.test [127.0.0.2]" in recs[0][1], "no MX: the A record", recs)

    recs, _ = run("six.test", ["u@six.test"])
    tap.ok(recs[0][0] == "K" and "six.test [::1]" in recs[0][1], "no MX, only AAAA: IPv6", recs)
    recs, _ = run("dual.test", ["u@dual.test"])
    tap.ok(recs[0][0] == "K" and "mx.dual.test [::1]" in recs[0][1], "IPv4 address dead: the same host's IPv6 one", recs)
    tap.is_(len(s61.transactions), 2, "both arrived over IPv6")

    recs, _ = run("d.test", ["u@d.test"])
    tap.is_(recs[0][0], "D", "null MX: permanent")
    tap.like(recs[0][1], "null MX", "null MX: says so")

    recs, _ = run("nxdomain.test", ["u@nxdomain.test"])
    tap.ok(recs[0][0] == "D" and "does not exist" in recs[0][1], "no such domain: permanent", recs)

    n2 = len(s2.transactions)
    recs, _ = run("e.test", ["u@e.test"])
    tap.ok(recs[0][0] == "K" and "mx.e.test" in recs[0][1], "421 greeting: next MX", recs)
    tap.is_(len(s2.transactions), n2 + 1, "the next MX got it")
    tap.is_(len(s6.transactions), 0, "the busy one did not")

    n3 = len(s3.transactions)
    recs, _ = run("loop.test", ["u@loop.test"])
    tap.ok(recs[0][0] == "D" and "mail loop" in recs[0][1], "we are the best MX: loop, permanent", recs)
    tap.is_(len(s3.transactions), n3, "worse MX not used when we are the best")
    recs, _ = run("backup.test", ["u@backup.test"])
    tap.ok(recs[0][0] == "K" and "primary.backup.test" in recs[0][1], "we are a backup MX: the better one gets it", recs)

    recs, _ = run("noaddr.test", ["u@noaddr.test"])
    tap.ok(recs[0][0] == "D" and "address" in recs[0][1], "MX without address: permanent", recs)

    recs, _ = remotetest.run(home, "a.test", "a@y.test", ["u@a.test"], MSG,
                             env={"TERN_DNS": "127.0.0.1:%d" % tern.free_udp_port(), "TERN_SMTP_PORT": str(port)})[:2]
    tap.ok(recs[0][0] == "Z" and "DNS" in recs[0][1], "DNS not answering: temporary", recs)

    # smtproutes: exact domain, .suffix, a smarthost by name; routes beat MX.
    routes = ["a.test:[127.0.0.3]", ".sub.test:127.0.0.2:%d" % port, "mx.test:", ":relay.test"]
    rh = tern.make_home({"smtproutes": routes, "ipme": "127.0.0.5"})
    n2, n3 = len(s2.transactions), len(s3.transactions)
    recs, _ = run("a.test", ["u@a.test"], rh)
    tap.ok(recs[0][0] == "K" and "[127.0.0.3]" in recs[0][1], "smtproutes beats the MX", recs)
    recs, _ = run("x.sub.test", ["u@x.sub.test"], rh)
    tap.ok(recs[0][0] == "K" and "[127.0.0.2]" in recs[0][1], ".suffix route with a port", recs)
    recs, _ = run("elsewhere.org", ["u@elsewhere.org"], rh)
    tap.ok(recs[0][0] == "K" and "relay.test [127.0.0.3]" in recs[0][1], "smarthost by name", recs)
    tap.is_((len(s2.transactions), len(s3.transactions)), (n2 + 1, n3 + 2), "each went where the route said")

    bad = tern.make_home({"smtproutes": ["a.test:[127.0.0.3"]})
    recs, _ = run("a.test", ["u@a.test"], bad)
    tap.ok(recs[0][0] == "Z" and "smtproutes" in recs[0][1], "a broken route defers, it does not guess", recs)

    for s in (s2, s3, s6, s61):
        s.stop()


tap.main(main)
