#!/usr/bin/env python3
"""tern-tcprules and tern-tcprulescheck: every syntax form, precedence, IPv6/CIDR, bad input, open catch-alls."""
import os
import subprocess

import tap
import tern


def compile_(d, text, flags=(), name="rules.cdb"):
    cdb = os.path.join(d, name)
    p = subprocess.run([tern.prog("tern-tcprules")] + list(flags) + [cdb, cdb + ".tmp"],
                       input=text.encode() if isinstance(text, str) else text,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stderr.decode(errors="replace"), cdb


def check(cdb, addr, host=None):
    argv = [tern.prog("tern-tcprulescheck"), cdb, addr] + ([host] if host else [])
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def decision(cdb, addr, host=None):
    out = check(cdb, addr, host)
    if "deny connection" in out:
        return "deny"
    if "allow connection" in out:
        return "allow"
    return out


FORMS = r"""# every form tcprules knows, and IPv6/CIDR
1.2.3.4:allow,RELAYCLIENT="",NAME='exact'
10.1.:allow,NAME="prefix16"
10.:deny
10.0.0.1-9:allow,NAME=/range/
172.16.0.0/12:allow,NAME="cidr"
[2001:db8::1]:allow,NAME="v6exact"
2001:db8::/32:deny
=mail.example.org:allow,NAME="host"
=.example.net:allow,NAME="suffix"
=:allow,NAME="anyhost"

:deny
"""


def test_forms(d):
    code, err, cdb = compile_(d, FORMS)
    tap.is_(code, 0, "all forms compile")
    out = check(cdb, "1.2.3.4")
    tap.like(out, "rule on line 2: 1.2.3.4:allow", "tcprulescheck names the rule and its line")
    tap.like(out, "set environment variable RELAYCLIENT=\n", "RELAYCLIENT set empty")
    tap.like(out, "set environment variable NAME=exact\n", "single quotes")
    tap.like(check(cdb, "10.1.200.3"), "NAME=prefix16", "prefix 10.1.")
    tap.is_(decision(cdb, "10.200.0.1"), "deny", "prefix 10. denies")
    tap.like(check(cdb, "10.0.0.9"), "NAME=range", "range 1-9 includes 9, any quote character")
    tap.is_(decision(cdb, "10.0.0.10"), "deny", "range 1-9 excludes 10")
    tap.like(check(cdb, "172.31.255.255"), "NAME=cidr", "CIDR /12 upper end")
    tap.is_(decision(cdb, "172.32.0.1"), "deny", "outside the CIDR")
    tap.like(check(cdb, "2001:db8::1"), "NAME=v6exact", "exact IPv6")
    tap.is_(decision(cdb, "2001:db8::2"), "deny", "IPv6 CIDR")
    tap.like(check(cdb, "192.0.2.1", "Mail.Example.org."), "NAME=host", "=host (name compared lowercased)")
    tap.like(check(cdb, "192.0.2.1", "a.b.example.net"), "NAME=suffix", "=.suffix")
    tap.like(check(cdb, "192.0.2.1", "example.net.evil.test"), "NAME=anyhost", "=.suffix is a suffix only")
    tap.like(check(cdb, "192.0.2.1", "x.mail.example.org"), "NAME=anyhost", "=host matches that name only")
    tap.is_(decision(cdb, "192.0.2.1"), "deny", "no name: the default")
    tap.is_(decision(cdb, "2001:db9::1"), "deny", "the default covers IPv6")


PRECEDENCE = """1.2.3.4:deny
=h.example:allow,W="host"
10.:deny
=.b.example:allow,W="long-suffix"
=.example:allow,W="short-suffix"
=:allow,W="anyhost"
10.0.0.0/8:allow,W="duplicate of 10."
10.1.0.0/16:allow,W="16"
10.1.2.0/24:deny
10.9.9.5:deny
10.9.9.1-9:allow,W="range"
2001:db8::/32:deny
2001:db8:1::/48:allow,W="48"
:allow,W="default"
"""


def test_precedence(d):
    code, err, cdb = compile_(d, PRECEDENCE, name="prec.cdb")
    tap.is_(code, 0, "overlapping rules compile")
    tap.is_(decision(cdb, "1.2.3.4", "h.example"), "deny", "exact address beats =host")
    tap.like(check(cdb, "10.200.0.1", "h.example"), "W=host", "=host beats a prefix")
    tap.is_(decision(cdb, "10.200.0.1", "a.b.example"), "deny", "a prefix beats =.suffix")
    tap.like(check(cdb, "192.0.2.1", "a.b.example"), "W=long-suffix", "the longest suffix wins")
    tap.like(check(cdb, "192.0.2.1", "a.c.example"), "W=short-suffix", "then shorter suffixes")
    tap.like(check(cdb, "192.0.2.1", "other.test"), "W=anyhost", "= beats the default")
    tap.like(check(cdb, "192.0.2.1"), "W=default", "the default last")
    tap.is_(decision(cdb, "10.200.0.1"), "deny", "the first of two rules for one network wins")
    tap.like(check(cdb, "10.1.3.3"), "W=16", "longest prefix: /16 inside /8")
    tap.is_(decision(cdb, "10.1.2.3"), "deny", "longest prefix: /24 inside /16")
    tap.is_(decision(cdb, "10.9.9.5"), "deny", "an exact rule before a range wins for its address")
    tap.like(check(cdb, "10.9.9.6"), "W=range", "the range covers the rest")
    tap.like(check(cdb, "2001:db8:1::5"), "W=48", "IPv6 longest prefix /48")
    tap.is_(decision(cdb, "2001:db8:2::5"), "deny", "IPv6 /32")
    tap.like(check(cdb, "::1"), "W=default", "IPv6 default")


def test_bad(d):
    code, err, cdb = compile_(d, "1.2.3.4:allow,V=\"old\"\n", name="bad.cdb")
    with open(cdb, "rb") as f:
        before = f.read()
    code, err, _ = compile_(d, "# ok\n1.2.3.4:allow\n10.0.0.256:allow\n\n10.0.0:deny\n1.2.3.4:allow X\n=bad..host:deny\n",
                            name="bad.cdb")
    tap.is_(code, 100, "bad input: exit 100")
    tap.like(err, "tern-tcprules: line 3: bad IPv4 octet", "line 3 reported with its reason")
    tap.like(err, "line 5: incomplete IPv4 address", "line 5 reported")
    tap.like(err, "line 6: expected ','", "line 6 reported")
    tap.like(err, "line 7: empty label in host name", "line 7 reported")
    tap.ok("line 2:" not in err, "good lines are not reported")
    tap.like(err, "left unchanged", "says the cdb was left alone")
    with open(cdb, "rb") as f:
        tap.ok(f.read() == before, "the old cdb is untouched")
    tap.ok(not os.path.exists(cdb + ".tmp"), "the temporary file is removed")
    tap.like(check(cdb, "1.2.3.4"), "V=old", "the old rules still answer")
    code, err, _ = compile_(d, "1.2.3.4:allow,X=\"" + "a" * 10000 + "\"\n", name="bad.cdb")
    tap.ok(code == 100 and "line 1: line too long" in err, "an overlong line is refused", err)
    code, err, _ = compile_(d, "1.2.3.4:allow,X=\"0123456789012345678901\"\n", flags=("-m", "20"), name="bad.cdb")
    tap.ok(code == 100 and "line too long" in err, "-m sets the line limit", err)
    code, err, _ = compile_(d, b"1.2.3.4:al\x00low\n", name="bad.cdb")
    tap.ok(code == 100 and "NUL" in err, "a NUL byte is refused", err)
    code, err, _ = compile_(d, "1.2.3.4:allow\r\n:deny\r\n", name="crlf.cdb")
    tap.is_(code, 0, "CRLF line ends are accepted")
    with open(cdb, "rb") as f:
        tap.ok(f.read() == before, "after all that, the old cdb is still untouched")


def test_catchall(d):
    for rule in (':allow,RELAYCLIENT=""', '=:allow,RELAYCLIENT=""', '0.0.0.0/4:allow,RELAYCLIENT="x"',
                 '2000::/3:allow,RELAYCLIENT=""', '=.com:allow,RELAYCLIENT=""'):
        code, err, cdb = compile_(d, "127.0.0.1:allow\n" + rule + "\n", name="open.cdb")
        tap.ok(code == 100 and "line 2: refusing a catch-all" in err and "open relay" in err,
               "refused without -w: " + rule, err)
        tap.ok(not os.path.exists(cdb), "... and no cdb written")
    code, err, cdb = compile_(d, ':allow,RELAYCLIENT=""\n', flags=("-w",), name="open.cdb")
    tap.is_(code, 0, "-w: the admin says they mean it")
    tap.like(check(cdb, "192.0.2.9"), "RELAYCLIENT=", "... and the rule is there")
    code, err, cdb = compile_(d, '127.:allow,RELAYCLIENT=""\n:allow\n', name="ok.cdb")
    tap.is_(code, 0, "127. with RELAYCLIENT and a plain :allow are fine")


def test_usage(d):
    p = subprocess.run([tern.prog("tern-tcprules"), os.path.join(d, "x.cdb")], stdin=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    tap.ok(p.returncode == 100 and b"usage" in p.stderr, "usage error: exit 100")
    p = subprocess.run([tern.prog("tern-tcprulescheck"), os.path.join(d, "none.cdb"), "1.2.3.4"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tap.is_(p.returncode, 111, "tcprulescheck on a missing cdb: exit 111")
    p = subprocess.run([tern.prog("tern-tcprulescheck"), os.path.join(d, "none.cdb"), "1.2.3"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tap.is_(p.returncode, 100, "tcprulescheck on a bad address: exit 100")


def main():
    d = tern.tmpdir()
    test_forms(d)
    test_precedence(d)
    test_bad(d)
    test_catchall(d)
    test_usage(d)


tap.main(main)
