"""queuefile.py: write and read tern queue files in tests (docs/INTERNALS.md).

    message | envelope | 20 decimal digits of the message length, "\\n"

    import queuefile
    path = queuefile.write(dir, b"Subject: x\\n\\nbody\\n", "a@x.test", ["b@y.test"])
    msg, sender, rcpts = queuefile.read(path)

envelope(sender, rcpts) gives the bare qmail-queue envelope bytes.
"""
import os


def envelope(sender, rcpts):
    e = b"F" + _b(sender) + b"\0"
    for r in rcpts:
        e += b"T" + _b(r) + b"\0"
    return e + b"\0"


def build(message, sender, rcpts):
    """The bytes of a queue file."""
    m = _b(message)
    return m + envelope(sender, rcpts) + b"%020d\n" % len(m)


def write(d, message, sender, rcpts, name="qf"):
    """Writes a queue file into directory d; returns its path."""
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(build(message, sender, rcpts))
    return path


def read(path):
    """(message bytes, sender, [rcpts]) of a queue file."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 21 or b[-1:] != b"\n":
        raise ValueError("no trailer")
    n = int(b[-21:-1])
    msg, env = b[:n], b[n:-21]
    if not env.endswith(b"\0\0"):
        raise ValueError("bad envelope")
    fields = env[:-1].split(b"\0")[:-1]
    sender = fields[0][1:].decode("latin-1")
    return msg, sender, [f[1:].decode("latin-1") for f in fields[1:]]


def _b(x):
    return x if isinstance(x, bytes) else x.encode("utf-8")
