"""terntls.py: helpers for the TLS and AUTH integration tests (certificates,
TLS client contexts, a loopback acceptor for programs that speak on fds 0/1)."""
import os
import socket
import ssl
import subprocess
import threading

import tern


def make_cert(d, kind="ec", name="mx.tern.test"):
    """A self-signed certificate and its key in d (EC P-256 or RSA 2048) made
    with the openssl CLI. Returns (keyfile, certfile)."""
    key = os.path.join(d, "%s-key.pem" % kind)
    cert = os.path.join(d, "%s-cert.pem" % kind)
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if kind == "ec" else ["-newkey", "rsa:2048"]
    subprocess.run(["openssl", "req", "-x509"] + newkey + ["-nodes", "-keyout", key, "-out", cert,
                    "-days", "30", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def client_context(minimum=None, maximum=None):
    """A client context that accepts our self-signed test certificates."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


class Acceptor:
    """Listens on 127.0.0.1 at a free port and runs argv for each connection
    with the socket on fds 0 and 1 and the ucspi variables set, like
    tern-tcpserver does; stderr of the programs goes to the log file.
    Children are tracked by tern.spawn (killed by PID at exit)."""

    def __init__(self, argv, env=None, log=None):
        self.argv, self.env = argv, dict(env or {})
        self.log = log or os.path.join(tern.tmpdir(), "log")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.procs = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                c, addr = self.sock.accept()
            except OSError:
                return
            env = dict(self.env, PROTO="TCP", TCPREMOTEIP=addr[0], TCPREMOTEPORT=str(addr[1]),
                       TCPLOCALIP="127.0.0.1", TCPLOCALPORT=str(self.port))
            with open(self.log, "ab") as err:
                self.procs.append(tern.spawn(self.argv, env=env, stdin=c, stdout=c, stderr=err))
            c.close()

    def logtext(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_all(self, connections, timeout=10):
        """Waits until the given number of connections has its program
        (the accepting thread may lag behind the client), then for every
        program to end; returns their exit codes in connection order."""
        tern.wait_for(lambda: len(self.procs) >= connections, timeout)
        codes = []
        for p in list(self.procs):
            try:
                codes.append(p.wait(timeout))
            except subprocess.TimeoutExpired:
                codes.append(None)
        return codes
