"""pgsql.py: a private PostgreSQL for the tests (docs/fleet.md).

    db = pgsql.Server()            # initdb in a temporary folder, started
    db.sql("SELECT 1")             # psql as the superuser, output as text
    db.setup_tern()                # database tern, the roles and GRANTs of
                                   # setup/pgsql-schema.sql, its tables
    pgsql.configure(home, db)      # control/pgsql, pgsql-auth, pgsql-admin
    db.stop(); db.start()          # the database away and back

It runs as an unprivileged user (nobody when the tests run as root:
PostgreSQL refuses root), listens on 127.0.0.1 at a free port and on a
unix socket inside its folder, and is killed by PID at exit.
"""
import glob
import os
import pwd
import re
import subprocess

import tern

SCHEMA = os.path.join(tern.TOP, "setup", "pgsql-schema.sql")
PASSWORDS = {"postgres": "su-pw", "tern_read": "read-pw", "tern_auth": "auth-pw", "tern_admin": "admin-pw"}


def bindir():
    """The folder of Debian's PostgreSQL server programs, or None."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "postgres")) and os.path.exists(os.path.join(d, "initdb")):
            return d
    return None


class Server:
    def __init__(self):
        self.bin = bindir()
        if not self.bin:
            raise RuntimeError("no PostgreSQL server programs")
        self.dir = tern.tmpdir("tern-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.log = os.path.join(self.dir, "log")
        os.mkdir(self.sock)
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORDS["postgres"] + "\n")
        self.runas = []
        if os.getuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for p in (self.sock, pwfile, self.dir):
                os.chown(p, nobody.pw_uid, nobody.pw_gid)
            self.runas = ["runuser", "-u", "nobody", "--"]
        r = subprocess.run(self.runas + [os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                                         "-A", "scram-sha-256", "--pwfile", pwfile, "-E", "UTF8", "--locale=C",
                                         "--no-sync"], capture_output=True, timeout=120)
        if r.returncode:
            raise RuntimeError("initdb failed: " + r.stderr.decode(errors="replace"))
        self.port = tern.free_port()
        self.proc = None
        self.start()

    def start(self):
        """Starts the server; returns once it answers on its port."""
        argv = self.runas + [os.path.join(self.bin, "postgres"), "-D", self.data, "-p", str(self.port),
                             "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + self.sock,
                             "-c", "fsync=off", "-c", "max_connections=60", "-c", "shared_buffers=16MB"]
        with open(self.log, "ab") as lf:
            self.proc = tern.spawn(argv, stdout=lf, stderr=lf)
        ok = tern.wait_for(lambda: self.ready(), 60, 0.1)
        if not ok:
            raise RuntimeError("postgres did not start: " + open(self.log, errors="replace").read()[-2000:])

    def ready(self):
        if self.proc.poll() is not None:
            return False
        r = subprocess.run([os.path.join(self.bin, "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                           capture_output=True)
        return r.returncode == 0

    def stop(self):
        """Fast shutdown (SIGINT): sessions are cut, as when the server goes away."""
        import signal
        tern.stop(self.proc, signal.SIGINT, 30)

    def conninfo(self, user, db="tern"):
        return "host=127.0.0.1 port=%d dbname=%s user=%s password=%s" % (self.port, db, user, PASSWORDS[user])

    def sql(self, text, user="postgres", db="tern"):
        """Runs text with psql; returns its output (unaligned, tuples only)."""
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            self.conninfo(user, db)], input=text.encode(), capture_output=True, timeout=60)
        if r.returncode:
            raise RuntimeError("psql failed: " + r.stderr.decode(errors="replace"))
        return r.stdout.decode()

    def hold(self, statement, user="postgres", db="tern"):
        """Runs statement inside a transaction left open (a lock held, as an
        admin's psql session would); returns the psql process once the
        statement has run. release(p) rolls it back."""
        p = subprocess.Popen([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              self.conninfo(user, db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        p.stdin.write(("BEGIN;\n%s;\nSELECT 'held';\n" % statement).encode())
        p.stdin.flush()
        line = p.stdout.readline()
        if line.strip() != b"held":
            p.kill()
            raise RuntimeError("psql did not run: %r" % line)
        return p

    @staticmethod
    def release(p):
        p.stdin.write(b"ROLLBACK;\n")
        p.stdin.close()
        p.wait(60)

    def setup_tern(self):
        """Database tern owned by tern_admin, the tables, and the roles and
        GRANTs exactly as setup/pgsql-schema.sql's comments give them."""
        grants = []
        with open(SCHEMA) as f:
            for line in f:
                m = re.match(r"--\s+((CREATE ROLE|GRANT) .*;)\s*$", line)
                if m:
                    grants.append(m.group(1))
        roles = [g for g in grants if g.startswith("CREATE ROLE")]
        for g in roles:
            name = g.split()[2]
            self.sql(g.replace("'...'", "'%s'" % PASSWORDS[name]), db="postgres")
        self.sql("CREATE DATABASE tern OWNER tern_admin", db="postgres")
        with open(SCHEMA) as f:
            self.sql(f.read(), user="tern_admin")
        self.sql("\n".join(g for g in grants if g.startswith("GRANT") and "TO tern_admin" not in g), user="tern_admin")
        return len(grants)


def configure(home, db):
    """The three connection strings of docs/fleet.md, readable by us only."""
    for name, user in (("pgsql", "tern_read"), ("pgsql-auth", "tern_auth"), ("pgsql-admin", "tern_admin")):
        path = os.path.join(home, "control", name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (db.conninfo(user) + "\n").encode())
        os.close(fd)
