"""smtpraw.py: a raw SMTP client for tests that need exact bytes on the wire
(pipelining, bare LF/CR, NULs, overlong lines) where smtplib would fix them."""
import socket
import time


class Raw:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.timeout = timeout

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def reply(self):
        """One whole reply (all its lines) as (code, text); (None, b'') at EOF."""
        lines = []
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                lines.append(line)
                if len(line) < 4 or line[3:4] != b"-":
                    return int(line[:3]), b"\n".join(l[4:] for l in lines)
                continue
            try:
                c = self.s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                c = b""
            if not c:
                return None, b"\n".join(lines)
            self.buf += c
        return None, b"timeout"

    def cmd(self, line):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply()

    def begin(self, helo="x.test", sender=None):
        """Reads the greeting, says EHLO and, with sender, MAIL FROM:<sender>.
        Returns the EHLO reply text."""
        self.reply()
        text = self.cmd("EHLO " + helo)[1]
        if sender is not None:
            self.cmd("MAIL FROM:<%s>" % sender)
        return text

    def closed(self):
        """True when the server closed the connection (EOF after any buffered bytes)."""
        try:
            self.s.settimeout(self.timeout)
            return self.buf == b"" and self.s.recv(1) == b""
        except ConnectionResetError:
            return True
        except (socket.timeout, OSError):
            return False

    def close(self):
        self.s.close()


def smtpd_server(control=None, rules=None, env=None, queue=True):
    """A TERN_HOME (control files as in tern.make_home, rcpthosts default
    tern.test) and tern-smtpd under tern-tcpserver on a free port.
    Returns (home, port, log): log is the path of the server's stderr."""
    import tern
    ctl = {"rcpthosts": ["tern.test"], "timeoutsmtpd": "20"}
    ctl.update(control or {})
    home = tern.make_home(ctl)
    if queue:
        tern.make_queue(home)
    e = {"TERN_HOME": home}
    e.update(env or {})
    p, port, log = tern.tcpserver([tern.prog("tern-smtpd")], rules=rules, env=e)
    return home, port, log


def send_one(port, body=b"Subject: q\r\n\r\nbody\r\n", rcpt="u@tern.test"):
    """One transaction (a@x.test to rcpt) and QUIT: (code, text) after DATA."""
    r = Raw(port)
    r.begin("x.test", "a@x.test")
    r.cmd("RCPT TO:<%s>" % rcpt)
    r.cmd("DATA")
    r.send(body + b".\r\n")
    code, text = r.reply()
    r.cmd("QUIT")
    r.close()
    return code, text


def read_log(log, want=None, timeout=5.0):
    """The server's log text; with want, waits until it contains want."""
    import tern
    def get():
        with open(log, "r", errors="replace") as f:
            t = f.read()
        return t if want is None or want in t else None
    return tern.wait_for(get, timeout) or get() if want else get()
