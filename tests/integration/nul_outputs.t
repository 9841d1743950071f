#!/usr/bin/env python3
"""Every output path is safe whatever the queue holds (docs/security.md):
queue files written the way an older tern (or a content filter) stored them,
with NUL-dot lines, lone CRs and CR LF pairs, go out through tern-remote to a
sink that keeps the raw bytes, bounce to a remote and to a local sender, land
in a Maildir, and are read back over POP3. Byte by byte, no receiver that
drops NULs or ends lines at a bare CR or LF finds an end of data early; a
bounce quotes the original's header section and nothing else, capped."""
import os
import random
import subprocess
import time

import tap
import tern
import deliver
import lax
import queuefile
import remotetest

SMUGGLED = b"MAIL FROM:<evil@attacker.test>\nRCPT TO:<victim@far.test>\nDATA\nSubject: smuggled\n\n"

# Body lines as an older version stored them (NUL kept, CR LF turned into
# LF), or as a content filter might write them (CRs).
VARIANTS = [b"\0.\n", b".\0\n", b"\0.\0\n", b"x\r.\rafter a lone CR\n", b"\r\n.\r\n",
            b"\n.\r\n", b"\0\r\n.\r\n", b"\r\r\n.\r\r\n", b"\0.\r\0\n"]

BODY = b"".join(b"variant %d\n" % i + v + SMUGGLED for i, v in enumerate(VARIANTS)) + b"the real end\n"

BOUNCE_HDR = (b"Received: from old.example\n"
              b"Subject: bounce me\n"
              b"X-Nul: a\0b\n"
              b"X-CR: one\rtwo: three\n"
              b"X-Cont: first\n"
              b" \0.\n"
              b"\0.\n"
              b"MAIL FROM:<evil@attacker.test>\n"
              b"Received: not quoted\n"
              b"\n")
BOUNCE_WANT = [b"Received: from old.example", b"Subject: bounce me", b"X-Nul: ab", b"X-CR: one",
               b"two: three", b"X-Cont: first", b" ."]

# A big header: a line over 998 bytes, then ~160 KiB of fields.
BIG_HDR = (b"Subject: big\nX-Long: " + b"y" * 5000 + b"\n"
           + b"".join(b"X-Pad-%04d: %s\n" % (i, b"p" * 40) for i in range(3000)) + b"\n")


def plant(home, message, sender, rcpts):
    """Writes a queue file straight into queue/mess, as an older tern-queue
    would have (no check of its content)."""
    qid = "%08x%08x" % (int(time.time()), random.getrandbits(32))
    d = os.path.join(home, "queue", "mess", qid[-2:])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, qid), "wb") as f:
        f.write(queuefile.build(message, sender, rcpts))
    return qid


def quoted(bounce, nl):
    """The lines of the text/rfc822-headers part of a bounce."""
    part = bounce.split(b"Content-Type: text/rfc822-headers" + nl, 1)[1]
    part = part.split(nl + nl, 1)[1]
    return part.rsplit(nl + nl + b"--", 1)[0].split(nl)


def check_raw(raw, what):
    tap.is_(lax.early_ends(raw), [], "%s: no lax reading ends the data early" % what)
    tap.ok(b"\0" not in raw and b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b""),
           "%s: no NUL, bare CR or bare LF on the wire" % what)


def remote_and_bounces():
    port, (snk,) = remotetest.sinks(["127.0.0.2"], {"127.0.0.2": {
        "rcpt_replies": {"bad@far.test": "550 5.1.1 no such user"}}})
    home = deliver.instance(users=["alice@ex.test"], control={"smtproutes": ["far.test:[127.0.0.2]"]})
    plant(home, b"Subject: nul dots\n\n" + BODY, "s@far.test", ["u@far.test"])
    plant(home, BOUNCE_HDR + b"body\n\0.\n" + SMUGGLED, "s@far.test", ["bad@far.test"])
    plant(home, BIG_HDR + b"body\n", "big@far.test", ["bad@far.test"])
    plant(home, BOUNCE_HDR + b"body\n\0.\n", "alice@ex.test", ["bad@far.test"])
    plant(home, b"Subject: local\n\n" + BODY, "s@far.test", ["alice@ex.test"])
    p, log = deliver.start_send(home, extra={"TERN_SMTP_PORT": str(port)})
    tap.ok(deliver.wait_queue_empty(home, 60), "every planted message was handled", log.text())
    tap.ok(snk.wait(3), "the sink got the relayed message and two bounces")
    tern.stop(p)
    ts = snk.transactions
    tap.is_(len(ts), 3, "three transactions: nothing smuggled made a fourth")
    tap.is_([c for c in snk.commands if "attacker" in c or "victim" in c], [], "no content line reached the sink as a command")

    relayed = [t for t in ts if t["rcpts"] == ["u@far.test"]]
    tap.is_(len(relayed), 1, "the NUL-dot message was relayed once")
    if relayed:
        check_raw(relayed[0]["raw"], "relayed message")
        tap.like(relayed[0]["data"], b"the real end\r\n", "it arrived whole")

    b = [t for t in ts if t["rcpts"] == ["s@far.test"]]
    tap.is_(len(b), 1, "the bounce to the remote sender was sent")
    if b:
        check_raw(b[0]["raw"], "bounce to a remote sender")
        tap.is_(quoted(b[0]["data"], b"\r\n"), BOUNCE_WANT, "the bounce quotes the header section and nothing after it")
        tap.ok(b"evil" not in b[0]["data"] and b"not quoted" not in b[0]["data"], "no line after the header section is quoted")
        tap.is_(BOUNCE_WANT, lax.header_section(BOUNCE_HDR), "(the plain reading of the header section agrees)")

    big = [t for t in ts if t["rcpts"] == ["big@far.test"]]
    tap.is_(len(big), 1, "the bounce of the big header was sent")
    if big:
        q = quoted(big[0]["data"], b"\r\n")
        want = lax.header_section(BIG_HDR)
        tap.ok(q == want, "big header: whole lines within the first 64 KiB, a long one cut at 998 bytes",
               "got %d lines (%d bytes), want %d" % (len(q), sum(len(x) + 1 for x in q), len(want)))
        tap.ok(sum(len(x) + 1 for x in q) <= 65536 and max(len(x) for x in q) == 998, "within the cap")
        check_raw(big[0]["raw"], "bounce of a big header")

    box = deliver.maildir_new(home, "alice")
    bl = [m for m in box if b"failure notice" in m]
    tap.is_(len(bl), 1, "the local sender's bounce is in the Maildir")
    if bl:
        tap.is_(quoted(bl[0], b"\n"), BOUNCE_WANT, "local bounce: the header section only")
        tap.ok(b"\0" not in bl[0] and b"\r" not in bl[0], "local bounce: no NUL, no CR in the Maildir file")
    loc = [m for m in box if b"Subject: local" in m]
    tap.is_(len(loc), 1, "the NUL-dot message was delivered locally")
    if loc:
        tap.ok(b"\0" not in loc[0] and b"\r" not in loc[0], "Maildir file: no NUL, no CR")
        tap.like(loc[0], b"\nvariant 0\n.\nMAIL FROM:<evil@attacker.test>\n", "NUL dropped, the line kept")
        tap.like(loc[0], b"\nx\n.\nafter a lone CR\n", "a lone CR became a line end")
    return home


class Replies:
    """POP3 answers read in order, the way a strict client reads them."""
    def __init__(self, out):
        self.out, self.pos = out, 0

    def line(self):
        i = self.out.index(b"\r\n", self.pos)
        l, self.pos = self.out[self.pos:i], i + 2
        return l

    def multi(self):
        """The raw text of a multi-line answer after its +OK line, the final
        ".\r\n" included."""
        start = self.pos
        while self.line() != b".":
            pass
        return self.out[start:self.pos]


def pop3(home):
    md = os.path.join(home, "maildirs", "alice")
    # a Maildir file an older tern-local (or another program) wrote
    with open(os.path.join(md, "new", "1700000001.M1P1.old"), "wb") as f:
        f.write(b"Subject: old file\n\n" + BODY)
    cmds = b"STAT\r\n" + b"".join(b"LIST %d\r\nRETR %d\r\nTOP %d 3\r\n" % (i, i, i) for i in (1, 2, 3)) + b"QUIT\r\n"
    r = subprocess.run([tern.prog("tern-pop3d"), "-m", md], input=cmds, capture_output=True, timeout=30,
                       env=dict(os.environ, TERN_HOME=home))
    rp = Replies(r.stdout)
    rp.line()
    tap.like(rp.line(), b"+OK 3 ", "POP3: three messages")
    for i in (1, 2, 3):
        size = int(rp.line().split()[2])
        tap.like(rp.line(), b"+OK", "RETR %d answered" % i)
        raw = rp.multi()
        check_raw(raw, "POP3 RETR %d" % i)
        unstuffed = b"".join(l[1:] + b"\r\n" if l.startswith(b".") else l + b"\r\n" for l in raw.split(b"\r\n")[:-2])
        tap.is_(len(unstuffed), size, "POP3 RETR %d: LIST gives the size RETR sends" % i)
        tap.like(rp.line(), b"+OK", "TOP %d answered" % i)
        check_raw(rp.multi(), "POP3 TOP %d 3" % i)
    tap.like(rp.line(), b"+OK", "QUIT answered")


def main():
    home = remote_and_bounces()
    pop3(home)


tap.main(main)
