#!/usr/bin/env python3
"""tern-setup builds an instance that tern-check accepts; tern-check refuses
each insecure change with a message that says what to fix, and a run script
over a refused instance does not start its server."""
import os
import stat
import subprocess

import tap
import tern


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


_made = {}


def setup(*opts):
    d = os.path.join(tern.tmpdir("tern-setup-"), "inst")
    r = run([tern.prog("tern-setup")] + list(opts) + [d])
    if r.returncode != 0:
        tap.note(r.stdout + r.stderr)
    return d, r


def fresh(*opts):
    """A private copy of an instance made once per set of options (cp -a
    keeps modes, times and the fifo)."""
    if opts not in _made:
        _made[opts] = setup(*opts)[0]
    d = os.path.join(tern.tmpdir("tern-setup-"), "inst")
    subprocess.run(["cp", "-a", _made[opts], d], check=True)
    return d, None


def check(d):
    return run([tern.prog("tern-check"), d])


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)


def recompile(d):
    # -w: the admin says explicitly that a wide RELAYCLIENT rule is meant
    r = run([tern.prog("tern-tcprules"), "-w", "rules.cdb", "rules.tmp"], cwd=d, stdin=open(os.path.join(d, "rules")))
    return r.returncode


def refused(d, needle, fix, name):
    r = check(d)
    tap.is_(r.returncode, 100, name + ": refused (exit 100)")
    tap.like(r.stderr, needle, name + ": says what is wrong")
    tap.like(r.stderr, fix, name + ": says what to fix")
    tap.like(r.stderr, "refusing to start", name + ": says it will not start")


def test_fresh():
    d, r = setup("-d", "example.test", "-n", "mx.example.test")
    tap.is_(r.returncode, 0, "tern-setup builds an instance")
    tap.like(r.stdout, "demo account demo@example.test password ", "prints the demo account and its password")
    pw = [l.split()[-1] for l in r.stdout.splitlines() if "password " in l]
    tap.ok(pw and len(pw[0]) >= 12, "the password is at least 12 characters")
    tap.is_(open(os.path.join(d, "control", "me")).read(), "mx.example.test\n", "control/me holds the host name")
    tap.like(open(os.path.join(d, "control", "rcpthosts")).read(), "example.test\n", "rcpthosts holds the domain")
    users = open(os.path.join(d, "users")).read()
    tap.ok(pw and pw[0] not in users, "the users file holds no clear password")
    tap.like(users, "demo@example.test:$", "the users file holds a crypt hash for the demo account")
    for f in ("users.cdb", "passwd.cdb", "rules.cdb", "tls/cert.pem"):
        tap.ok(os.path.isfile(os.path.join(d, f)), f + " exists")
    tap.is_(stat.S_IMODE(os.stat(os.path.join(d, "tls/key.pem")).st_mode), 0o600, "the TLS key is mode 600")
    tap.is_(stat.S_IMODE(os.stat(os.path.join(d, "users")).st_mode), 0o600, "users is mode 600")
    tap.ok(stat.S_ISFIFO(os.stat(os.path.join(d, "queue/trigger")).st_mode), "queue/trigger is a fifo")
    for s in ("smtp", "submission", "smtps", "pop3", "pop3s", "send"):
        tap.ok(os.access(os.path.join(d, "service", s, "run"), os.X_OK)
               and os.access(os.path.join(d, "service", s, "log", "run"), os.X_OK),
               "service/%s has run and log/run" % s)
    r = check(d)
    tap.is_((r.returncode, r.stderr), (0, ""), "tern-check accepts a fresh instance")
    r = run([tern.prog("tern-setup"), "-c", d])
    tap.is_(r.returncode, 0, "tern-setup -c is tern-check")
    r = run([tern.prog("tern-setup"), d])
    tap.is_(r.returncode, 100, "tern-setup will not overwrite an instance without -f")
    r = run([tern.prog("tern-setup"), "-f", d])
    tap.is_(r.returncode, 0, "tern-setup -f completes an instance")
    tap.ok("password" not in r.stdout, "and prints no new password")
    tap.is_(open(os.path.join(d, "users")).read(), users, "and keeps the users file")


def test_options():
    d, r = setup("-u", "-i", "127.0.0.1")
    want = {"smtp": 2525, "submission": 2587, "smtps": 2465, "pop3": 2110, "pop3s": 2995}
    for s, p in want.items():
        tap.like(r.stdout, "%s 127.0.0.1:%d\n" % (s, p), "-u puts %s on %d" % (s, p))
        tap.like(open(os.path.join(d, "service", s, "run")).read(), "127.0.0.1 %d" % p, "its run script listens there")
        tap.like(open(os.path.join(d, "service", s, "run")).read(), "-c 40 -C 10 ", "%s holds 40 connections, 10 per client address" % s)
    d, r = setup("-o", "10000", "-p", "pop3s=4999")
    tap.like(r.stdout, "smtp 0.0.0.0:10025\n", "-o adds an offset")
    tap.like(r.stdout, "pop3s 0.0.0.0:4999\n", "-p sets one port")
    d, r = setup("-z", "bl.example", "-z", "dnsbl.example")
    tap.like(open(os.path.join(d, "service", "smtp", "run")).read(), "tern-smtpd -P -r bl.example -r dnsbl.example\n",
             "-z gives the pooled smtp worker each zone (in-process blocklist check)")
    dc, rc = setup("-C", "-z", "bl.example", "-z", "dnsbl.example")
    classic = open(os.path.join(dc, "service", "smtp", "run")).read()
    tap.like(classic, "tern-rblsmtpd -r bl.example -r dnsbl.example \\\n", "-C: the classic chain has tern-rblsmtpd with each zone")
    tap.ok(" -w " not in classic, "-C: and no pool")
    tap.ok("rblsmtpd" not in open(os.path.join(d, "service", "submission", "run")).read(), "and only there")
    smtp = open(os.path.join(d, "service", "smtp", "run")).read()
    tap.like(smtp, "GREETDELAY=1000\nexport GREETDELAY\n", "port 25 pauses 1000 ms before its greeting by default")
    tap.ok("GREETDELAY" not in open(os.path.join(d, "service", "submission", "run")).read(),
           "and only port 25 (submission clients are not screened)")
    d, r = setup("-g", "0")
    tap.like(open(os.path.join(d, "service", "smtp", "run")).read(), "GREETDELAY=0\n", "-g 0 turns the pause off")
    for bad in (["-d", "a;b"], ["-n", "x\ny"], ["-i", "1.2.3.4 -x"], ["-p", "ftp=21"], ["-p", "smtp=70000"], ["-o", "x"],
                ["-g", "60001"], ["-g", "1s"]):
        d, r = setup(*bad)
        tap.is_(r.returncode, 100, "refuses %r" % (bad,))
        tap.ok(not os.path.exists(d), "and creates nothing")


def test_rules():
    d, _ = fresh()
    write(os.path.join(d, "rules"), ':allow,RELAYCLIENT=""\n', "a")
    tap.is_(recompile(d), 0, "tern-tcprules compiles the catch-all (admins may say so explicitly)")
    refused(d, 'catch-all or very wide rule (empty) sets RELAYCLIENT', "give RELAYCLIENT only to your own addresses",
            "empty catch-all with RELAYCLIENT")
    d, _ = fresh()
    write(os.path.join(d, "rules"), '# everybody\n0.0.0.0/0:allow,RBLSMTPD="",RELAYCLIENT=""\n:deny\n')
    recompile(d)
    refused(d, "rules line 2: the catch-all or very wide rule 0.0.0.0/0 sets RELAYCLIENT", "RELAYCLIENT", "CIDR /0 catch-all")
    d, _ = fresh()
    for wide in ("=", "=.com", "4.0.0.0/6"):
        write(os.path.join(d, "rules"), '%s:allow,RELAYCLIENT=""\n' % wide)
        recompile(d)
        refused(d, "very wide rule %s sets RELAYCLIENT" % wide, "RELAYCLIENT", "wide rule " + wide)
    write(os.path.join(d, "rules"), '10.:allow,RELAYCLIENT=""\n:allow,RBLSMTPD=""\n')
    recompile(d)
    tap.is_(check(d).returncode, 0, "RELAYCLIENT for a network and a catch-all without it pass")
    os.utime(os.path.join(d, "rules.cdb"), (1, 1))
    refused(d, "rules.cdb is older than rules", "tern-tcprules rules.cdb rules.tmp < rules", "stale rules.cdb")
    os.unlink(os.path.join(d, "rules.cdb"))
    refused(d, "rules.cdb is missing", "tern-tcprules", "missing rules.cdb")


def test_rcpthosts():
    d, _ = fresh()
    os.unlink(os.path.join(d, "control", "rcpthosts"))
    refused(d, "control/rcpthosts is missing", "list the domains", "missing rcpthosts")
    write(os.path.join(d, "control", "rcpthosts"), "# nothing yet\n\n")
    refused(d, "control/rcpthosts is empty", "list the domains", "rcpthosts with only a comment")


def test_plaintext_auth():
    d, _ = fresh("-i", "0.0.0.0")
    tap.is_(check(d).returncode, 0, "a public instance with TLS in front of every login passes")
    runf = os.path.join(d, "service", "submission", "run")
    text = open(runf).read()
    lines = [l for l in text.splitlines(True) if "tern-tlsd" not in l]
    write(runf, "".join(lines))
    refused(d, "service submission offers passwords without TLS on 0.0.0.0 port 587", "put tern-tlsd before",
            "submission without TLS on a public address")
    write(runf, text.replace("0.0.0.0", "192.0.2.1").replace("tern-tlsd", "#tern-tlsd"))
    refused(d, "service submission offers passwords without TLS on 192.0.2.1", "tern-tlsd", "tern-tlsd commented out")
    d, _ = fresh("-i", "0.0.0.0")
    runf = os.path.join(d, "service", "smtps", "run")
    write(runf, open(runf).read().replace("tern-smtpd -s", "tern-smtpd -s -p"))
    refused(d, "service smtps offers passwords without TLS", "tern-tlsd", "tern-smtpd -p (AUTH before TLS) on a public address")
    d, _ = fresh("-i", "0.0.0.0")
    runf = os.path.join(d, "service", "pop3", "run")
    write(runf, open(runf).read().replace("tern-pop3d tern-checkpassword", "tern-pop3d -P tern-checkpassword"))
    refused(d, "service pop3 offers passwords without TLS", "tern-tlsd", "tern-pop3d -P (USER/PASS before STLS) on a public address")
    d, _ = fresh("-i", "127.0.0.1")
    runf = os.path.join(d, "service", "pop3", "run")
    write(runf, "".join(l for l in open(runf).read().splitlines(True) if "tern-tlsd" not in l))
    tap.is_(check(d).returncode, 0, "plaintext POP3 on loopback only passes")
    write(runf, open(runf).read().replace("127.0.0.1", "::"))
    refused(d, "service pop3 offers passwords without TLS on ::", "tern-tlsd", "plaintext POP3 on ::")


def test_modes():
    cases = [("control/rcpthosts", 0o020, "writable by group or others", "chmod go-w"),
             ("control", 0o002, "control is writable by group or others", "chmod go-w"),
             ("tls/key.pem", 0o002, "tls/key.pem is writable", "chmod go-w"),
             ("tls/key.pem", 0o004, "tls/key.pem is readable by others", "chmod o-r"),
             ("users", 0o004, "users is readable by others", "chmod o-r"),
             ("passwd.cdb", 0o004, "passwd.cdb is readable by others", "chmod o-r"),
             ("control/pgsql", 0o004, "control/pgsql is readable by others", "chmod o-r"),
             ("rules", 0o002, "rules is writable", "chmod go-w"),
             ("service/smtp/run", 0o020, "service/smtp/run is writable", "chmod go-w")]
    d, _ = fresh()
    fd = os.open(os.path.join(d, "control", "pgsql"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"host=127.0.0.1 port=1 dbname=tern user=tern_read password=x\n")
    os.close(fd)
    tap.is_(check(d).returncode, 0, "a control/pgsql of mode 600 passes")
    for path, bit, needle, fix in cases:
        f = os.path.join(d, path)
        mode = stat.S_IMODE(os.stat(f).st_mode)
        os.chmod(f, mode | bit)
        refused(d, needle, fix, "%s with mode bit %o" % (path, bit))
        os.chmod(f, mode)
    tap.is_(check(d).returncode, 0, "with the modes restored it passes again")


def test_dkim():
    d, _ = fresh()
    sel = open(os.path.join(d, "control", "dkimdomains")).read().split()[-1]
    dom, name = sel.split(":")
    key = os.path.join(d, "dkim", dom, name + ".key")
    tap.is_(stat.S_IMODE(os.stat(key).st_mode), 0o400, "tern-setup made the DKIM key named in dkimdomains, mode 400")
    rules = open(os.path.join(d, "rules")).read()
    tap.like(rules, 'RELAYCLIENT="",RBLSMTPD="",TERNQUEUE="' + tern.prog("tern-dkimsign") + '"',
             "the rules give the relaying addresses tern-dkimsign")
    tap.like(open(os.path.join(d, "service", "submission", "run")).read(), "TERNQUEUE=" + tern.prog("tern-dkimsign"),
             "submission runs tern-dkimsign for everyone")
    tap.ok("TERNQUEUE" not in open(os.path.join(d, "service", "smtp", "run")).read(),
           "port 25 does not (strangers never meet it)")
    for bit in (0o040, 0o004):
        os.chmod(key, 0o400 | bit)
        refused(d, "(a DKIM private key) is open to group or others", "chmod 400", "a DKIM key with mode bit %o" % bit)
    os.chmod(key, 0o400)
    os.chmod(os.path.join(d, "dkim"), 0o720)
    refused(d, "dkim is writable by group or others", "chmod go-w", "dkim/ writable by its group")
    os.chmod(os.path.join(d, "dkim"), 0o700)
    with open(os.path.join(d, "control", "dkimdomains"), "a") as f:
        f.write("other.test:s1,s2\n")
    r = check(d)
    tap.is_(r.returncode, 0, "a rule without its key: services still start")
    tap.like(r.stderr, "warning: %s: control/dkimdomains names other.test:s2 but dkim/other.test/s2.key does not exist" % d,
             "but tern-check warns, naming the key")
    tap.like(r.stderr, "tern-dkimkey other.test s1", "and says how to make it")


def test_run_script_refuses():
    d, _ = setup("-i", "127.0.0.1", "-p", "smtp=%d" % tern.free_port())
    os.unlink(os.path.join(d, "control", "rcpthosts"))
    p = tern.spawn(["sh", "./run"], cwd=os.path.join(d, "service", "smtp"),
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = p.stdout.readline()
    tap.like(first, "control/rcpthosts is missing", "the smtp run script runs the checker first and logs why")
    port = int(open(os.path.join(d, "service", "smtp", "run")).read().split("127.0.0.1 ")[1].split()[0])
    tap.ok(not tern.can_connect("127.0.0.1", port), "and does not start the server")
    tern.stop(p)


def test_under_s6():
    """Supervised, a refused instance logs why and stays down; fixed, it
    starts by itself at the next try."""
    port = tern.free_port()
    d, _ = setup("-i", "127.0.0.1", "-p", "smtp=%d" % port)
    for s in os.listdir(os.path.join(d, "service")):
        if s != "smtp":
            subprocess.run(["rm", "-rf", os.path.join(d, "service", s)], check=True)
    rh = os.path.join(d, "control", "rcpthosts")
    saved = open(rh).read()
    os.unlink(rh)
    scan = tern.spawn(["s6-svscan", os.path.join(d, "service")], env={"TERN_HOME": d},
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = os.path.join(d, "log", "smtp", "current")

    def logged():
        return os.path.exists(log) and "control/rcpthosts is missing" in open(log).read()
    tap.ok(tern.wait_for(logged, 20), "under s6 the refusal lands in log/smtp/current")
    tap.ok(not tern.can_connect("127.0.0.1", port), "and the server does not start")
    write(rh, saved)
    tap.ok(tern.wait_port("127.0.0.1", port, 20), "once fixed it starts by itself")
    subprocess.run(["s6-svscanctl", "-t", os.path.join(d, "service")])
    tap.ok(tern.wait_for(lambda: scan.poll() is not None, 20), "and stops with s6-svscanctl -t")


def main():
    test_fresh()
    test_options()
    test_rules()
    test_rcpthosts()
    test_plaintext_auth()
    test_modes()
    test_dkim()
    test_run_script_refuses()
    test_under_s6()


tap.main(main)
