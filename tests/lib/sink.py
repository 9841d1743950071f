"""sink.py: a small, strict SMTP server for tests (the far end of tern-remote).

It listens on one loopback address and port, answers with configurable
replies, optionally offers STARTTLS and requires AUTH, and records every
transaction it completes. It runs in a thread of the test (Sink.start()) or as
a separate process (spawn_sink(), or `python3 sink.py --config JSON`), in
which case it records each transaction to a directory so the test can read it.

    import sink
    s = sink.Sink("127.0.0.2", port, rcpt_replies={"bad@x.test": "550 5.1.1 no such user"})
    s.start()
    ... run the program under test ...
    s.wait(1)                  # waits (bounded) until one transaction is recorded
    t = s.transactions[0]      # a dict, see below
    s.stop()

Sink(host="127.0.0.1", port=0, **options); port 0 picks a free port
(s.port tells which). Options:

  replies        {stage: "CODE text"} overriding the default reply of a stage.
                 Stages: greeting, ehlo, helo, mail, rcpt, data, dot (after
                 the message), rset, quit, starttls, auth (the reply to
                 good credentials), noop.
                 A multi-line reply: lines separated by "\\n" (the sink writes
                 the continuation dashes). The value "close" drops the
                 connection instead of answering; "hang" says nothing until
                 the client goes away (for timeout tests).
  rcpt_replies   {address (lowercase): "CODE text"} per recipient ("close"
                 and "hang" too).
  mail_replies   {sender (lowercase): "CODE text"} the reply to MAIL per sender.
  dot_replies    {address (lowercase): "CODE text"} the reply after the
                 message when the transaction's first accepted recipient is
                 that address ("close": drop the connection instead).
  delays         {stage: seconds} to wait before answering that stage.
  ehlo           False: answer EHLO with 502 (an old HELO-only server).
  pipelining     advertise PIPELINING (default True).
  size           advertise SIZE N and refuse MAIL with a larger SIZE= (552).
  tls            (certfile, keyfile): offer STARTTLS with this certificate
                 (make_cert() makes one with the openssl CLI).
  tls_ciphers    OpenSSL cipher string for the TLS server (default OpenSSL's);
                 s.tls_shared then lists, per handshake, the suites the
                 client offered that are in it ("ALL:@SECLEVEL=0": all it offered)
  tls13_only     the TLS server refuses anything older than TLS 1.3 (so a
                 TLS 1.2 client's handshake fails).
  starttls_inject  text sent right after the 220 reply to STARTTLS, before
                 the handshake (a man in the middle's injection).
  auth           {user: password}: offer AUTH and accept these.
  auth_mechs     the mechanisms offered (default "PLAIN LOGIN"); only PLAIN
                 and LOGIN are implemented.
  auth_required  MAIL before a successful AUTH gets 530 5.7.0.
  tls_required   MAIL before STARTTLS gets 530 5.7.0.
  record_dir     also write each transaction as record_dir/N.json
                 (written to a temporary name, then renamed).
  hostname       the name in the greeting (default "sink.test").
  dsn            advertise DSN (RFC 3461); the parameters show in commands.

A transaction is recorded when the message was answered at the final dot,
whatever the reply; its dict holds:

  peer         the client's address
  helo         the last EHLO/HELO argument; esmtp: True when it was EHLO
  tls          True when STARTTLS was done before MAIL
  auth         the user who authenticated, or None
  mail_from    the reverse-path as given (without brackets); mail_params: the rest
  rcpts        recipients that were accepted (2xx), in order
  rejected     [(address, reply)] recipients that were refused
  data         the message bytes as received, dot-unstuffed, CRLF line ends kept,
               the final ".\\r\\n" removed (bytes; "data" is latin-1 text in JSON)
  raw          the bytes exactly as they came after the 354, stuffing dots
               and the final ".\\r\\n" included (latin-1 text in JSON)
  bare_cr, bare_lf  True when the data held a CR not before LF / an LF not after CR
  reply        the reply given at the final dot
  commands     every command line of the session up to this transaction
  session      the number of the connection it came over (1, 2, ...)

The end of DATA is only CRLF "." CRLF, as RFC 5321 says: a client that sends
a bare LF "." LF inside the content shows up as one transaction whose data
contains it, never as two.

Also: s.sessions counts connections accepted, s.session_times has the
time.time() of each, s.session_ports the client's port of each (by session
number); s.mail_times the time.time() of each MAIL command (a
try: a batch run of tern-remote may make several over one connection); s.ended the sessions that ended (the client quit or
went away); s.commands lists every
command line received (all sessions); s.auth_attempts lists (mechanism,
user, password) tried; s.tls_errors the failed handshakes; load_records(dir) reads a record_dir;
make_cert(dir, cn) and make_ca(dir) / make_cert(dir, cn, ca=...) create
certificates with the openssl CLI.
"""
import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

MAXLINE = 4096
MAXDATA = 64 * 1024 * 1024


class _Drop(Exception):
    pass


class _Session:
    def __init__(self, sink, conn, peer, num=0):
        self.num = num
        self.s = sink
        self.conn = conn
        self.peer = peer
        self.buf = b""
        self.tls = False
        self.auth = None
        self.helo = None
        self.esmtp = False
        self.commands = []
        self.reset()

    def reset(self):
        self.mail = None
        self.mail_params = ""
        self.rcpts = []
        self.rejected = []

    # --- line I/O -----------------------------------------------------------
    def readline(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAXLINE:
                raise _Drop()
            d = self.conn.recv(65536)
            if not d:
                raise _Drop()
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, text):
        self.conn.sendall(text.encode("latin-1"))

    def reply(self, stage, default):
        return self.answer(self.s.replies.get(stage, default), stage)

    def answer(self, r, stage=None):
        """Sends reply r ("close" and "hang" as in replies); returns it."""
        d = self.s.delays.get(stage)
        if d:
            time.sleep(d)
        if r == "close":
            raise _Drop()
        if r == "hang":
            while True:
                try:
                    if not self.conn.recv(65536):
                        break
                except OSError:
                    break
            raise _Drop()
        self.raw_reply(r)
        return r

    def raw_reply(self, r):
        lines = r.split("\n")
        code = lines[0][:3]
        out = ""
        for i, l in enumerate(lines):
            if i == 0:
                text = l[4:] if len(l) > 3 else ""
            else:
                text = l
            sep = " " if i == len(lines) - 1 else "-"
            out += code + sep + text + "\r\n"
        self.send(out)

    # --- the dialogue -------------------------------------------------------
    def run(self):
        self.reply("greeting", "220 %s ESMTP sink" % self.s.hostname)
        while True:
            line = self.readline()
            text = line.decode("latin-1")
            self.commands.append(text)
            with self.s.lock:
                self.s.commands.append(text)
            verb = text.split(" ", 1)[0].upper()
            arg = text[len(verb) + 1:] if " " in text else ""
            h = getattr(self, "do_" + verb.lower(), None)
            if h is None or verb.lower() not in _VERBS:
                self.raw_reply("500 5.5.2 unknown command")
                continue
            if h(arg) == "quit":
                return

    def do_ehlo(self, arg):
        if not self.s.ehlo:
            self.raw_reply("502 5.5.1 EHLO not implemented")
            return
        self.helo, self.esmtp = arg, True
        self.reset()
        lines = ["250 %s hello %s" % (self.s.hostname, arg)]
        if self.s.pipelining:
            lines.append("PIPELINING")
        if self.s.size:
            lines.append("SIZE %d" % self.s.size)
        lines.append("8BITMIME")
        if self.s.dsn:
            lines.append("DSN")
        if self.s.tls and not self.tls:
            lines.append("STARTTLS")
        if self.s.auth:
            lines.append("AUTH " + self.s.auth_mechs)
        self.reply("ehlo", "\n".join(lines))

    def do_helo(self, arg):
        self.helo, self.esmtp = arg, False
        self.reset()
        self.reply("helo", "250 %s" % self.s.hostname)

    def do_starttls(self, arg):
        if not self.s.tls or self.tls:
            self.raw_reply("502 5.5.1 no STARTTLS here")
            return
        if self.s.starttls_inject:
            # One write, so the client gets both in the same read.
            self.send("220 2.0.0 go ahead\r\n" + self.s.starttls_inject)
        else:
            r = self.reply("starttls", "220 2.0.0 go ahead")
            if not r.startswith("2"):
                return
        # What the client pipelined after STARTTLS is thrown away (CVE-2011-0411).
        self.buf = b""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.s.tls[0], self.s.tls[1])
        if self.s.tls13_only:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if self.s.tls_ciphers:
            ctx.set_ciphers(self.s.tls_ciphers)
        try:
            self.conn = ctx.wrap_socket(self.conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.s.lock:
                self.s.tls_errors.append(str(e))
            raise _Drop()
        if self.s.tls_ciphers:
            with self.s.lock:
                self.s.tls_shared.append([c[0] for c in self.conn.shared_ciphers() or []])
        self.tls = True
        self.helo = None
        self.reset()

    def do_auth(self, arg):
        if not self.s.auth or self.auth:
            self.raw_reply("503 5.5.1 no AUTH now")
            return
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        try:
            if mech not in self.s.auth_mechs.upper().split():
                self.raw_reply("504 5.5.4 mechanism not offered")
                return
            if mech == "PLAIN":
                resp = parts[1] if len(parts) > 1 else self._challenge("")
                z = base64.b64decode(resp, validate=True).split(b"\0")
                user, pw = z[1].decode(), z[2].decode()
            elif mech == "LOGIN":
                u = parts[1] if len(parts) > 1 else self._challenge("VXNlcm5hbWU6")
                user = base64.b64decode(u, validate=True).decode()
                pw = base64.b64decode(self._challenge("UGFzc3dvcmQ6"), validate=True).decode()
            else:
                self.raw_reply("504 5.5.4 unknown mechanism")
                return
        except (ValueError, IndexError, UnicodeDecodeError):
            self.raw_reply("501 5.5.2 bad base64")
            return
        with self.s.lock:
            self.s.auth_attempts.append((mech, user, pw))
        if self.s.auth.get(user) == pw and pw is not None:
            if self.reply("auth", "235 2.7.0 authenticated").startswith("2"):
                self.auth = user
        else:
            self.raw_reply("535 5.7.8 bad credentials")

    def _challenge(self, b64):
        self.send("334 %s\r\n" % b64)
        line = self.readline().decode("latin-1")
        self.commands.append(line)
        if line == "*":
            raise ValueError("cancelled")
        return line

    def do_mail(self, arg):
        self.s.mail_times.append(time.time())
        if self.mail is not None:
            self.raw_reply("503 5.5.1 nested MAIL")
            return
        if self.s.tls_required and not self.tls:
            self.raw_reply("530 5.7.0 STARTTLS first")
            return
        if self.s.auth_required and not self.auth:
            self.raw_reply("530 5.7.0 authentication required")
            return
        if not arg.upper().startswith("FROM:<") or ">" not in arg:
            self.raw_reply("501 5.5.4 syntax: MAIL FROM:<address>")
            return
        addr, params = arg[6:].split(">", 1)
        params = params.strip()
        for p in params.split():
            if p.upper().startswith("SIZE=") and self.s.size:
                try:
                    if int(p[5:]) > self.s.size:
                        self.raw_reply("552 5.3.4 message too big")
                        return
                except ValueError:
                    self.raw_reply("501 5.5.4 bad SIZE")
                    return
        mr = self.s.mail_replies.get(addr.lower())
        if mr is not None:
            self.raw_reply(mr)
            return
        r = self.reply("mail", "250 2.1.0 ok")
        if r.startswith("2"):
            self.mail, self.mail_params = addr, params

    def do_rcpt(self, arg):
        if self.mail is None:
            self.raw_reply("503 5.5.1 MAIL first")
            return
        if not arg.upper().startswith("TO:<") or ">" not in arg:
            self.raw_reply("501 5.5.4 syntax: RCPT TO:<address>")
            return
        addr = arg[4:].split(">", 1)[0]
        r = self.s.rcpt_replies.get(addr.lower())
        if r is not None:
            self.answer(r)
        else:
            r = self.reply("rcpt", "250 2.1.5 ok")
        if r.startswith("2"):
            self.rcpts.append(addr)
        else:
            self.rejected.append((addr, r))

    def do_data(self, arg):
        if self.mail is None or not self.rcpts:
            self.raw_reply("503 5.5.1 no valid recipients")
            return
        r = self.reply("data", "354 go ahead")
        if not r.startswith("3"):
            self.reset()
            return
        data, raw = self._read_data()
        dr = self.s.dot_replies.get(self.rcpts[0].lower())
        if dr == "close":
            raise _Drop()
        if dr is not None:
            self.raw_reply(dr)
            r = dr
        else:
            r = self.reply("dot", "250 2.0.0 accepted")
        self._record(data, raw, r)
        self.reset()

    def _read_data(self):
        # Only CRLF.CRLF ends the data. Lines are CRLF-split; a bare LF or CR
        # stays inside a line's content.
        out = []
        raw = []
        size = 0
        while True:
            line = self.readline()
            raw.append(line + b"\r\n")
            if line == b".":
                break
            if line.startswith(b"."):
                line = line[1:]
            out.append(line + b"\r\n")
            size += len(line) + 2
            if size > MAXDATA:
                raise _Drop()
        return b"".join(out), b"".join(raw)

    def _record(self, data, raw, reply):
        body = data.replace(b"\r\n", b"")
        t = {
            "peer": self.peer, "helo": self.helo, "esmtp": self.esmtp,
            "tls": self.tls, "auth": self.auth,
            "mail_from": self.mail, "mail_params": self.mail_params,
            "rcpts": list(self.rcpts), "rejected": list(self.rejected),
            "data": data, "raw": raw, "bare_cr": b"\r" in body, "bare_lf": b"\n" in body,
            "reply": reply, "commands": list(self.commands), "session": self.num,
        }
        with self.s.lock:
            n = len(self.s.transactions)
            self.s.transactions.append(t)
        if self.s.record_dir:
            j = dict(t)
            j["data"] = data.decode("latin-1")
            j["raw"] = raw.decode("latin-1")
            tmp = os.path.join(self.s.record_dir, ".%d.tmp" % n)
            with open(tmp, "w") as f:
                json.dump(j, f)
            os.rename(tmp, os.path.join(self.s.record_dir, "%06d.json" % n))

    def do_rset(self, arg):
        self.reset()
        self.reply("rset", "250 2.0.0 ok")

    def do_noop(self, arg):
        self.reply("noop", "250 2.0.0 ok")

    def do_quit(self, arg):
        self.reply("quit", "221 2.0.0 bye")
        return "quit"


_VERBS = {"ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "rset", "noop", "quit"}


class Sink:
    def __init__(self, host="127.0.0.1", port=0, replies=None, rcpt_replies=None,
                 delays=None, ehlo=True, pipelining=True, size=None, tls=None,
                 auth=None, auth_required=False, tls_required=False,
                 tls13_only=False, tls_ciphers=None, starttls_inject=None, auth_mechs="PLAIN LOGIN",
                 record_dir=None, hostname="sink.test", mail_replies=None, dot_replies=None, dsn=False):
        self.host = host
        self.replies = dict(replies or {})
        self.rcpt_replies = {k.lower(): v for k, v in (rcpt_replies or {}).items()}
        self.mail_replies = {k.lower(): v for k, v in (mail_replies or {}).items()}
        self.dot_replies = {k.lower(): v for k, v in (dot_replies or {}).items()}
        self.delays = dict(delays or {})
        self.ehlo = ehlo
        self.pipelining = pipelining
        self.size = size
        self.tls = tls
        self.auth = auth
        self.auth_required = auth_required
        self.tls13_only = tls13_only
        self.tls_ciphers = tls_ciphers
        self.tls_shared = []
        self.starttls_inject = starttls_inject
        self.auth_mechs = auth_mechs
        self.tls_required = tls_required
        self.record_dir = record_dir
        self.hostname = hostname
        self.dsn = dsn
        self.lock = threading.Lock()
        self.transactions = []
        self.commands = []
        self.auth_attempts = []
        self.tls_errors = []
        self.sessions = 0
        self.session_times = []
        self.session_ports = {}    # session number -> the client's port
        self.mail_times = []
        self.ended = 0
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self._stop = False
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.serve, daemon=True)
        self._thread.start()
        return self

    def serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn.settimeout(60)
            # Pipelined replies go out as several small writes: without
            # NODELAY, Nagle and the client's delayed ACK stall each by ~40 ms.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.sessions += 1
                self.session_times.append(time.time())
                num = self.sessions
                self.session_ports[num] = addr[1]
            threading.Thread(target=self._session, args=(conn, addr[0], num), daemon=True).start()

    def _session(self, conn, peer, num=0):
        sess = _Session(self, conn, peer, num)
        try:
            sess.run()
        except (_Drop, OSError, ssl.SSLError):
            pass
        finally:
            try:
                sess.conn.close()
            except OSError:
                pass
            with self.lock:
                self.ended += 1

    def wait(self, n, timeout=20.0):
        """Waits until n transactions are recorded (bounded); returns the count."""
        end = time.monotonic() + timeout
        while len(self.transactions) < n and time.monotonic() < end:
            time.sleep(0.02)
        return len(self.transactions)

    def stop(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass
        if self._thread:
            self._thread.join(2)


def load_records(d):
    """The transactions a subprocess sink recorded in d, in order (data as bytes)."""
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".json") and not name.startswith("."):
            with open(os.path.join(d, name)) as f:
                t = json.load(f)
            t["data"] = t["data"].encode("latin-1")
            t["raw"] = t["raw"].encode("latin-1")
            out.append(t)
    return out


def spawn_sink(host, port, record_dir, **options):
    """Runs a sink as a subprocess (through tern.spawn, so it is killed by PID
    at exit) recording into record_dir; returns the process once it listens."""
    import tern
    cfg = dict(options, host=host, port=port, record_dir=record_dir)
    p = tern.spawn([sys.executable, os.path.abspath(__file__), "--config", json.dumps(cfg)])
    if not tern.wait_port(host, port, 10):
        raise RuntimeError("sink did not start on %s:%d" % (host, port))
    return p


def _openssl(args):
    subprocess.run(["openssl"] + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(d, cn="Tern Test CA"):
    """A self-signed EC CA in d: returns (cacert, cakey)."""
    cert, key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=" + cn,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return cert, key


def make_cert(d, cn="sink.test", ca=None, rsa=False):
    """An EC (or RSA) certificate for cn in d, self-signed or signed by
    ca=(cacert, cakey). Returns (certfile, keyfile)."""
    cert, key = os.path.join(d, cn + ".pem"), os.path.join(d, cn + ".key")
    newkey = ["-newkey", "rsa:2048"] if rsa else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    if ca is None:
        _openssl(["req", "-x509"] + newkey + ["-nodes", "-keyout", key, "-out", cert,
                  "-days", "30", "-subj", "/CN=" + cn, "-addext", "subjectAltName=DNS:" + cn])
    else:
        csr = os.path.join(d, cn + ".csr")
        ext = os.path.join(d, cn + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n" % cn)
        _openssl(["req", "-new"] + newkey + ["-nodes", "-keyout", key, "-out", csr,
                  "-subj", "/CN=" + cn])
        _openssl(["x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                  "-CAcreateserial", "-out", cert, "-days", "30", "-extfile", ext])
    return cert, key


def _main():
    if len(sys.argv) != 3 or sys.argv[1] != "--config":
        sys.stderr.write("usage: sink.py --config JSON\n")
        sys.exit(100)
    cfg = json.loads(sys.argv[2])
    host, port = cfg.pop("host"), cfg.pop("port")
    if cfg.get("tls"):
        cfg["tls"] = tuple(cfg["tls"])
    s = Sink(host, port, **cfg)
    s.serve()


if __name__ == "__main__":
    _main()
