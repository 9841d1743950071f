#!/usr/bin/env python3
"""tern-smtpd: address tricks never turn a refused relay into an accepted one
(one test per form; docs/smtpd.md lists how each is treated)."""
import shutil
import subprocess

import tap
import tern
from smtpraw import Raw, smtpd_server, read_log

# (RCPT argument, expected code, what it tries)
TRICKS = [
    ("<user@foreign.test>", 553, "plain foreign domain"),
    ("<user%foreign.test@tern.test>", 553, "percent hack through our domain"),
    ("<foreign.test!user@tern.test>", 553, "bang path through our domain"),
    ("<foreign.test!user>", 553, "bang path without a domain"),
    ("<\"user@foreign.test\"@tern.test>", 553, "quoted local part holding @"),
    ("<\"user%foreign.test\"@tern.test>", 553, "quoted local part holding %"),
    ("<@tern.test:user@foreign.test>", 553, "source route through our domain to a foreign one"),
    ("<@tern.test,@tern.test:user@foreign.test>", 553, "two-hop source route"),
    ("<user@foreign.test@tern.test>", 501, "two unquoted @"),
    ("<user@[127.0.0.1]>", 553, "address literal (not listed in rcpthosts)"),
    ("<user@[IPv6:::1]>", 553, "IPv6 address literal"),
    ("<user@foreign.test.>", 553, "foreign domain with a trailing dot"),
    ("<user@FOREIGN.TEST>", 553, "foreign domain in upper case"),
    ("<user@tern.test.foreign.test>", 553, "our domain as a prefix of a foreign one"),
    ("<user@foreigntern.test>", 553, "our domain as a suffix without a dot"),
    ("<user@tern.test..>", 501, "two trailing dots"),
    ("<user@tern.test\\@foreign.test>", 501, "backslash-escaped @ outside quotes"),
    ("<user@tern.test%foreign.test>", 501, "percent in the domain"),
    ("<user@foreign.test >", 501, "space before the closing bracket"),
    ("<user@tern.test> <x@foreign.test>", 555, "a second path as a parameter"),
    ("<user@(comment)tern.test>", 501, "comment in the domain"),
    ("<user@tern.test\x00.foreign.test>", 500, "NUL in the address"),
    ("<user@t\xc3\xa9rn.test>", 501, "8-bit domain (no SMTPUTF8)"),
    ("<postmaster@foreign.test>", 553, "postmaster at a foreign domain"),
]


def main():
    # every trick in one session: the tarpit (smtpd_tarpit.t) would make
    # the later refusals wait, so it is off here
    home, port, log = smtpd_server(control={"maxerrors": "1000", "tarpitcount": "0"})
    r = Raw(port)
    r.begin("attacker.test", "a@attacker.test")
    for arg, want, name in TRICKS:
        code, text = r.cmd(b"RCPT TO:" + arg.encode("latin-1"))
        tap.is_(code, want, "%s: %s refused with %d" % (name, arg, want))
    tap.is_(r.cmd("RCPT TO:<user@tern.test>")[0], 250, "a plain local recipient still works after all that")
    code, _ = r.cmd("DATA")
    r.send("Subject: x\r\n\r\nx\r\n.\r\n")
    tap.is_(r.reply()[0], 250, "message queued")
    q = tern.queued_messages(home)
    tap.is_(q[0][3] if q else None, ["user@tern.test"], "only the plain recipient is in the envelope")
    tap.like(read_log(log, "routing characters"), "(routing characters)", "routing refusals are logged with their reason")

    # From a trusted client the routing forms are accepted and queued as given,
    # so the decision and the delivery see the same address.
    home, port, log = smtpd_server(rules='127.0.0.1:allow,RELAYCLIENT=""\n')
    r = Raw(port)
    r.begin("friend.test", "a@friend.test")
    tap.is_(r.cmd("RCPT TO:<user%foreign.test@tern.test>")[0], 250, "relay client: percent form accepted")
    tap.is_(r.cmd("RCPT TO:<@tern.test:user@foreign.test>")[0], 250, "relay client: source route accepted")
    r.cmd("DATA")
    r.send("x\r\n.\r\n")
    tap.is_(r.reply()[0], 250, "queued")
    tap.is_(tern.queued_messages(home)[0][3], ["user%foreign.test@tern.test", "user@foreign.test"],
            "queued as checked: percent kept in the local part, source route stripped")

    # A literal that rcpthosts lists is ours; case of the IPv6 tag does not matter.
    home, port, log = smtpd_server(control={"rcpthosts": ["[127.0.0.1]", "[IPv6:::1]"]})
    r = Raw(port)
    r.begin("x.test", "a@x.test")
    tap.is_(r.cmd("RCPT TO:<u@[127.0.0.1]>")[0], 250, "listed IPv4 literal accepted")
    tap.is_(r.cmd("RCPT TO:<u@[ipv6:0::1]>")[0], 250, "listed IPv6 literal accepted in another spelling")
    tap.is_(r.cmd("RCPT TO:<u@[127.0.0.2]>")[0], 553, "unlisted literal refused")


def nmap_check():
    """nmap's smtp-open-relay script: 16 classic relay tricks, from outside."""
    if not shutil.which("nmap"):
        tap.ok(True, "# SKIP nmap not installed")
        return
    for rules, want, name in [(None, "doesn't seem to be an open relay", "untrusted client: no trick relays"),
                              ('127.0.0.1:allow,RELAYCLIENT=""\n', "Server is an open relay", "relay client: the check can tell")]:
        home, port, log = smtpd_server(control={"maxerrors": "100", "tarpitcount": "0"}, rules=rules)
        r = subprocess.run(["nmap", "-Pn", "-n", "-p", str(port), "--script", "+smtp-open-relay", "--script-args",
                            "smtp-open-relay.domain=tern.test,smtp-open-relay.ip=127.0.0.1,smtp-open-relay.to=victim@foreign.test",
                            "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        tap.like(r.stdout, want, "nmap smtp-open-relay, " + name)
        tap.is_(tern.queued_messages(home) if rules is None else [], [], "nothing queued by the untrusted run")


def both():
    main()
    nmap_check()


tap.main(both)
