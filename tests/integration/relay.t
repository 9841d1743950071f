#!/usr/bin/env python3
"""tern-relayallow and tern-relaycheck as programs: records, env, settings.
tern-relayallow -n records at once (for mailbox programs that cannot);
without -n it only asks the mailbox program (TERN_RELAYALLOW=1), which
records once the session is established (pop3_relay.t)."""
import os
import subprocess
import time

import tap
import tern

SHOW = ["sh", "-c", 'printf "%s|%s|%s" "${RELAYCLIENT-unset}" "${RBLSMTPD-unset}" "$*"', "sh", "ran"]


def run(prog, env, argv=SHOW):
    e = {k: v for k, v in os.environ.items() if k not in ("RELAYCLIENT", "RBLSMTPD", "RELAY_DIR", "RELAY_EXPIRY")}
    e.update(env)
    p = subprocess.run([tern.prog(prog)] + argv, env=e, capture_output=True, timeout=20)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def allow(env, argv=SHOW):
    """tern-relayallow -n: the record at once."""
    return run("tern-relayallow", env, ["-n"] + argv)


def main():
    home = tern.make_home()
    relay = os.path.join(home, "relay")
    os.mkdir(relay)
    base = {"TERN_HOME": home}

    rc, out, err = run("tern-relayallow", dict(base, TCPREMOTEIP="127.0.0.5"),
                       ["sh", "-c", 'printf "%s|%s" "${TERN_RELAYALLOW-unset}" "$*"', "sh", "ran"])
    tap.is_((rc, out), (0, "1|ran"), "relayallow without -n asks the mailbox program: TERN_RELAYALLOW=1")
    tap.is_(os.listdir(relay), [], "and records nothing itself")
    rc, out, err = allow(dict(base, TCPREMOTEIP="127.0.0.5"))
    tap.is_(rc, 0, "relayallow exits with the program it runs")
    tap.is_(out, "unset|unset|ran", "relayallow -n runs the rest, adding nothing to the environment")
    tap.ok(os.path.isfile(os.path.join(relay, "127.0.0.5")), "record written for 127.0.0.5")
    tap.is_(sorted(os.listdir(relay)), ["127.0.0.5"], "no temporary file left behind")

    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.5"))
    tap.is_(out, "||ran", "fresh record: RELAYCLIENT and RBLSMTPD set empty")
    tap.like(err, "relay granted to 127.0.0.5", "grant logged")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.6"))
    tap.is_(out, "unset|unset|ran", "no record: nothing set")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.6", RELAYCLIENT="@rules"))
    tap.is_(out, "@rules|unset|ran", "no record: RELAYCLIENT from the rules kept")

    rec = os.path.join(relay, "127.0.0.5")
    t = time.time() - 3 * 60
    os.utime(rec, (t, t))
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.5", RELAY_EXPIRY="2"))
    tap.is_(out, "unset|unset|ran", "record older than RELAY_EXPIRY: refused")
    tap.ok(not os.path.exists(rec), "stale record removed")

    allow(dict(base, TCPREMOTEIP="127.0.0.5"))
    os.utime(rec, (t, t))
    with open(os.path.join(home, "control", "relayexpiry"), "w") as f:
        f.write("5\n")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.5"))
    tap.is_(out, "||ran", "control/relayexpiry 5: a 3-minute-old record is honoured")
    with open(os.path.join(home, "control", "relayexpiry"), "w") as f:
        f.write("1\n")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.5"))
    tap.is_(out, "unset|unset|ran", "control/relayexpiry 1: the same record is stale")
    os.unlink(os.path.join(home, "control", "relayexpiry"))

    rc, out, err = allow(dict(base, TCPREMOTEIP="2001:DB8:0::1"))
    tap.ok(os.path.isfile(os.path.join(relay, "2001:db8::1")), "IPv6 record under its canonical name")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="2001:db8:0:0:0:0:0:1"))
    tap.is_(out, "||ran", "IPv6 spelled differently finds the same record")

    before = sorted(os.listdir(relay))
    for bad in ("../x", ".hidden", "127.0.0.5/x", "", "1.2.3.4\n"):
        rc, out, err = allow(dict(base, TCPREMOTEIP=bad))
        tap.ok(rc == 0 and out == "unset|unset|ran" and "invalid TCPREMOTEIP" in err,
               "relayallow with TCPREMOTEIP %r: warns, records nothing, runs the rest" % bad, err)
    tap.is_(sorted(os.listdir(relay)), before, "no file created by an invalid address")
    tap.ok(not os.path.exists(os.path.join(home, "x")), "nothing written outside the relay directory")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="../relay/127.0.0.5"))
    tap.is_(out, "unset|unset|ran", "relaycheck with a path for an address grants nothing")

    shared = tern.tmpdir("tern-relay-shared-")
    with open(os.path.join(home, "control", "relaydir"), "w") as f:
        f.write(shared + "\n")
    allow(dict(base, TCPREMOTEIP="127.0.0.7"))
    tap.ok(os.path.isfile(os.path.join(shared, "127.0.0.7")), "control/relaydir names the directory")
    other = tern.make_home(control={"relaydir": shared})
    rc, out, err = run("tern-relaycheck", {"TERN_HOME": other, "TCPREMOTEIP": "127.0.0.7"})
    tap.is_(out, "||ran", "a second instance sharing the directory honours the record")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.7", RELAY_DIR=relay))
    tap.is_(out, "unset|unset|ran", "RELAY_DIR overrides control/relaydir")

    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.7", RELAY_EXPIRY="0"))
    tap.is_(out, "unset|unset|ran", "RELAY_EXPIRY=0 turns POP-before-SMTP off")
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.7", RELAY_EXPIRY="soon"))
    tap.ok(out == "unset|unset|ran" and "RELAY_EXPIRY" in err, "bad RELAY_EXPIRY: warned, no relay, service goes on", err)
    rc, out, err = run("tern-relaycheck", dict(base, TCPREMOTEIP="127.0.0.7", RELAY_DIR="/nonexistent/relay"))
    tap.is_((rc, out), (0, "unset|unset|ran"), "missing relay directory: no relay, service goes on")
    rc, out, err = allow(dict(base, TCPREMOTEIP="127.0.0.7", RELAY_DIR="/nonexistent/relay"))
    tap.ok(rc == 0 and out == "unset|unset|ran" and "unable to record" in err,
           "relayallow cannot write: warns and still runs the rest", err)

    rc, out, err = run("tern-relaycheck", base, argv=[])
    tap.is_(rc, 100, "no program to run: usage, exit 100")
    rc, out, err = run("tern-relayallow", base, argv=[])
    tap.is_(rc, 100, "relayallow with no program: usage, exit 100")
    rc, out, err = run("tern-relayallow", base, argv=["/nonexistent/prog"])
    tap.is_(rc, 111, "program cannot be run: exit 111")


tap.main(main)
