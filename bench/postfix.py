"""postfix.py: a private Postfix instance for the benchmarks.

Lives entirely under a temporary directory, listens on 127.0.0.1 at a port we
pick, relays bench.test to a sink through a transport, logs to a file; the
machine's own mail setup is not touched. Needs root (Postfix's master does)."""
import os
import shutil
import subprocess
import time

MASTER_CF = """\
{port}      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    def __init__(self, base, port, sink_port, hold=False, procs=300):
        self.port = port
        self.base = base
        self.conf = os.path.join(base, "etc")
        self.queue = os.path.join(base, "spool")
        self.data = os.path.join(base, "data")
        self.log = os.path.join(base, "maillog")
        self.port = port
        os.chmod(base, 0o755)
        for d in (self.conf, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        main = {
            "compatibility_level": "3.6",
            "config_directory": self.conf,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "maillog_file": self.log,
            "maillog_file_prefixes": base,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "postfix.bench.local",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "relay_domains": "bench.test",
            "transport_maps": "inline:{ bench.test=relay:[127.0.0.1]:%d }" % sink_port,
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "smtpd_peername_lookup": "no",
            "default_process_limit": str(procs),
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "anvil_rate_time_unit": "60s",
            "relay_destination_concurrency_limit": "20",
            "default_destination_concurrency_limit": "20",
            "smtp_connection_cache_on_demand": "yes",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "shlib_directory": "/usr/lib/postfix",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "meta_directory": "/etc/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "smtpd_banner": "$myhostname ESMTP",
        }
        self.main = main
        self.hold = hold
        self.write_main()
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port="127.0.0.1:%d" % self.port))

    def write_main(self):
        """With hold, accepted mail goes to Postfix's hold queue and is not
        delivered, as tern's stays queued when tern-send is not running."""
        main = dict(self.main)
        if self.hold:
            main["smtpd_recipient_restrictions"] = ("check_recipient_access inline:{bench.test=HOLD}, "
                                                   + main["smtpd_recipient_restrictions"])
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write("%s = %s\n" % (k, v))

    def unhold(self):
        """Releases the held mail (call while stopped)."""
        self.hold = False
        self.write_main()
        subprocess.run(["postsuper", "-c", self.conf, "-H", "ALL"], capture_output=True)

    prefix = []   # a command prefix for start (bench.py: its CPU cgroup)

    def run(self, *args):
        pre = self.prefix if args[:1] == ("start",) else []
        return subprocess.run(pre + ["postfix", "-c", self.conf] + list(args),
                              capture_output=True, text=True)

    def start(self):
        r = self.run("start")
        if r.returncode != 0:
            raise RuntimeError("postfix start failed: %s %s" % (r.stdout, r.stderr))

    def stop(self):
        self.run("stop")
        # wait for master to go
        pidf = os.path.join(self.queue, "pid", "master.pid")
        for _ in range(100):
            if not os.path.exists(pidf):
                break
            time.sleep(0.05)

    def pids(self, name):
        """PIDs of this instance's processes called name (e.g. smtpd, qmgr)."""
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].decode(errors="replace") == name and b"-c" not in cmd[:1]:
                try:
                    env = open("/proc/%s/environ" % p, "rb").read()
                except OSError:
                    continue
                if self.conf.encode() in env:
                    out.append(int(p))
        return out

    def queued(self):
        n = 0
        for sub in ("incoming", "active", "deferred", "maildrop", "hold"):
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n
