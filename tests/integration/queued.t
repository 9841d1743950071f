#!/usr/bin/env python3
"""tern-queued, the resident queue writer (issue 14): it refuses malformed
records, a malformed envelope, an oversize message and a stale or bad ID
with nothing left in the queue; tern-smtpd hands messages to it when its
socket answers, and falls back to tern-queue when it is away or busy and
always when $TERNQUEUE is set; a message accepted through it is delivered;
SIGKILL of the writer under load loses nothing that got a 250."""
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import tap
import tern
import deliver
from smtpraw import smtpd_server, read_log, send_one


def start_writer(home, opts=()):
    os.makedirs(os.path.join(home, "queued"), exist_ok=True)
    sock = os.path.join(home, "queued", "socket")
    if os.path.exists(sock):
        os.unlink(sock)
    log = os.path.join(home, "queued.log")
    lf = open(log, "ab")
    p = tern.spawn([tern.prog("tern-queued"), "-v"] + list(opts), env=dict(os.environ, TERN_HOME=home), stderr=lf)
    lf.close()
    tern.wait_for(lambda: os.path.exists(sock), 10)
    return p, sock, log


def rec(t, payload=b""):
    return t + struct.pack(">I", len(payload)) + payload


def fresh_id():
    return ("%08x" % int(time.time())) + os.urandom(4).hex()


def talk(sock, records, greet=True):
    """Sends records; returns (greeting type, result code, id) or what came."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock)
    g = s.recv(5)
    try:
        s.sendall(b"".join(records))
    except OSError:
        pass
    data = b""
    while True:
        try:
            c = s.recv(4096)
        except OSError:
            break
        if not c:
            break
        data += c
    s.close()
    if len(data) < 6 or data[:1] != b"C":
        return g[:1], None, data
    return g[:1], data[5], data[6:22].decode()


def envelope(sender, rcpts):
    return b"F" + sender + b"\0" + b"".join(b"T" + r + b"\0" for r in rcpts) + b"\0"


def leftovers(home):
    return deliver.queue_files(home), os.listdir(os.path.join(home, "queue", "tmp"))


def refusals():
    home = tern.make_home({"databytes": "1000"})
    tern.make_queue(home)
    p, sock, log = start_writer(home)
    good_env = envelope(b"a@x.test", [b"u@tern.test"])
    msg = b"Subject: x\n\nbody\n"
    g, code, qid = talk(sock, [rec(b"I", fresh_id().encode()), rec(b"D", msg), rec(b"E", good_env)])
    tap.is_((g, code), (b"R", 0), "a well-formed message: ready, then code 0")
    tap.is_([m[0] for m in tern.queued_messages(home)], [qid], "committed under the ID it names")
    cases = [
        ("an envelope without F", [rec(b"I", fresh_id().encode()), rec(b"D", msg), rec(b"E", b"Xa@x\0\0")], 91),
        ("an envelope with no recipient", [rec(b"I", fresh_id().encode()), rec(b"D", msg), rec(b"E", b"Fa@x\0\0")], 91),
        ("bytes after the envelope's end", [rec(b"I", fresh_id().encode()), rec(b"D", msg), rec(b"E", good_env + b"Tz\0")], 91),
        ("an address over 1024 bytes", [rec(b"I", fresh_id().encode()), rec(b"D", msg),
                                        rec(b"E", envelope(b"a@x.test", [b"u" * 1100 + b"@tern.test"]))], 11),
        ("a message over databytes", [rec(b"I", fresh_id().encode()), rec(b"D", b"z" * 60000),
                                      rec(b"D", b"z" * 10000), rec(b"E", good_env)], 31),
        ("an ID from the past", [rec(b"I", b"00000001" + b"abcdef12"), rec(b"D", msg), rec(b"E", good_env)], 54),
        ("an ID in upper case", [rec(b"I", fresh_id().upper().encode()), rec(b"D", msg), rec(b"E", good_env)], 54),
        ("a data record first", [rec(b"D", msg), rec(b"E", good_env)], 54),
        ("an unknown record", [rec(b"I", fresh_id().encode()), rec(b"X", b"hi")], 54),
        ("an empty data record", [rec(b"I", fresh_id().encode()), rec(b"D", b"")], 54),
        ("a record longer than 64 KiB", [rec(b"I", fresh_id().encode()), b"D" + struct.pack(">I", 70000) + b"z" * 70000], 54),
        ("an ID record of the wrong length", [rec(b"I", b"abc")], 54),
        ("data after the envelope began", [rec(b"I", fresh_id().encode()), rec(b"E", b"Fa\0"), rec(b"D", msg)], 54),
    ]
    for name, records, want in cases:
        g, code, _ = talk(sock, records)
        tap.is_(code, want, "refused: %s (code %d)" % (name, want))
    tap.is_(leftovers(home), ([os.path.join(home, "queue", "mess", qid[-2:], qid)], []),
            "nothing of the refused messages in mess/ or tmp/")
    # a client that goes away mid-message
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.recv(5)
    s.sendall(rec(b"I", fresh_id().encode()) + rec(b"D", msg) + rec(b"E", b"Fa@x\0"))
    s.close()
    g, code, qid2 = talk(sock, [rec(b"I", fresh_id().encode()), rec(b"D", msg), rec(b"E", good_env)])
    tap.is_(code, 0, "a client gone mid-message: the next one is served")
    tap.is_(len(deliver.queue_files(home)), 2, "and the half message left nothing")
    tap.like(read_log(log, "exit code 91"), "exit code 91", "refusals are logged with their code")
    tern.stop(p)
    # -c 1: a second client is told busy; -t 1: a silent client times out
    p, sock, log = start_writer(home, ["-c", "1", "-t", "1"])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    tap.is_(s.recv(5)[:1], b"R", "first client: ready")
    s2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s2.connect(sock)
    tap.is_(s2.recv(5)[:1], b"B", "over -c: busy")
    s2.close()
    s.settimeout(30)
    got = s.recv(64)
    tap.is_(got[:6], b"C\0\0\0\x01" + bytes([52]), "a silent client times out with code 52")
    s.close()
    tern.stop(p)


smtp_send = send_one


def through_smtpd():
    home, port, slog = smtpd_server()
    p, sock, log = start_writer(home)
    code, text = smtp_send(port)
    qid = text.split()[-1].decode()
    tap.is_(code, 250, "tern-smtpd with the writer: 250")
    tap.like(read_log(log, "committed " + qid), "committed " + qid, "the writer committed it")
    tap.is_([m[0] for m in tern.queued_messages(home)], [qid], "and it is in the queue")
    tern.stop(p)
    code, text = smtp_send(port)
    qid2 = text.split()[-1].decode()
    tap.is_(code, 250, "writer stopped (socket gone): 250 through tern-queue")
    tap.ok(qid2 in [m[0] for m in tern.queued_messages(home)] and "committed " + qid2 not in open(log).read(),
           "queued by tern-queue, not the writer")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sock)   # a stale socket nobody listens on
    code, _ = smtp_send(port)
    tap.is_(code, 250, "a stale socket: 250 through tern-queue")
    s.close()
    # $TERNQUEUE: always the program, even with the writer up
    d = tern.tmpdir()
    f = os.path.join(d, "filter")
    with open(f, "w") as fh:
        fh.write('#!/bin/sh\n{ echo "X-Filtered: yes"; cat; } > "%s/msg" && exec "%s" < "%s/msg"\n'
                 % (d, tern.prog("tern-queue"), d))
    os.chmod(f, 0o755)
    home2, port2, _ = smtpd_server(env={"TERNQUEUE": f})
    p, sock, log = start_writer(home2)
    code, text = smtp_send(port2)
    m = tern.queued_messages(home2)
    tap.ok(code == 250 and m and m[0][1].startswith(b"X-Filtered: yes"), "$TERNQUEUE set: the filter runs, writer or not")
    tern.stop(p)


def delivered():
    home = deliver.instance(users=["alice@ex.test"], control={"rcpthosts": ["ex.test"], "timeoutsmtpd": "20"})
    p, sock, log = start_writer(home)
    sp, slog = deliver.start_send(home)
    e = {"TERN_HOME": home}
    tp, port, tlog = tern.tcpserver([tern.prog("tern-smtpd")], env=e)
    code, text = smtp_send(port, b"Subject: via writer\r\n\r\nhello\r\n", "alice@ex.test")
    qid = text.split()[-1].decode()
    tap.is_(code, 250, "accepted through the writer")
    tap.ok("committed " + qid in read_log(log, "committed " + qid), "by the writer")
    tap.ok(deliver.wait_maildir(home, "alice", 1, 60), "and delivered to the Maildir")
    tap.like(b"".join(deliver.maildir_new(home, "alice")), b"Subject: via writer", "the message arrived whole")
    tern.stop(tp)
    tern.stop(sp)
    tern.stop(p)


def killed_under_load():
    home, port, slog = smtpd_server(control={"timeoutsmtpd": "60"})
    p, sock, log = start_writer(home)
    accepted, lock = [], threading.Lock()
    stop = threading.Event()
    count = {"n": 0}

    def client(k):
        i = 0
        while not stop.is_set() and i < 200:
            i += 1
            try:
                code, text = smtp_send(port, b"Subject: load %d %d\r\n\r\n" % (k, i) + b"x" * 3000 + b"\r\n")
            except Exception:
                continue
            with lock:
                count["n"] += 1
                if code == 250:
                    accepted.append(text.split()[-1].decode())
    ts = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in ts:
        t.start()
    tern.wait_for(lambda: len(accepted) >= 20, 60)
    p.kill()
    p.wait()
    n_at_kill = len(accepted)
    # the writer comes back (as s6 restarts it) while the load goes on
    tern.wait_for(lambda: count["n"] >= n_at_kill + 10, 60)
    p, sock, log = start_writer(home)
    tern.wait_for(lambda: len(accepted) >= n_at_kill + 20, 60)
    stop.set()
    for t in ts:
        t.join(120)
    q = {m[0]: m for m in tern.queued_messages(home)}
    lost = [i for i in accepted if i not in q]
    tap.ok(len(accepted) > n_at_kill >= 20, "load ran across the kill (%d accepted, %d before it)" % (len(accepted), n_at_kill))
    tap.is_(lost, [], "every message that got a 250 is in the queue, whole")
    tap.is_(os.listdir(os.path.join(home, "queue", "tmp")), [], "nothing half-written in tmp/")
    tern.stop(p)


def writers_of(pid):
    """The tern-queued processes whose parent is pid."""
    r = subprocess.run(["pgrep", "-P", str(pid), "-x", "tern-queued"], capture_output=True, text=True)
    return sorted(int(x) for x in r.stdout.split())


def writers():
    """-p: a supervisor and that many writers accepting on one socket; a
    writer killed is replaced and its peers go on; SIGTERM ends them all."""
    home = tern.make_home({})
    tern.make_queue(home)
    good_env = envelope(b"a@x.test", [b"u@tern.test"])

    def one():
        return talk(sock, [rec(b"I", fresh_id().encode()), rec(b"D", b"Subject: w\n\nx\n"), rec(b"E", good_env)])[1]
    p, sock, log = start_writer(home)
    tap.ok(tern.wait_for(lambda: len(writers_of(p.pid)) == 4, 10), "default: 4 writers under the supervisor")
    w = writers_of(p.pid)
    tap.is_([one() for _ in range(8)], [0] * 8, "messages committed through them")
    os.kill(w[0], signal.SIGKILL)
    tap.ok(tern.wait_for(lambda: len(writers_of(p.pid)) == 4 and w[0] not in writers_of(p.pid), 10),
           "a writer killed is replaced")
    tap.like(read_log(log, "was killed"), "was killed", "and the supervisor logs it")
    tap.is_([one() for _ in range(4)], [0] * 4, "the others and the new one commit")
    left = writers_of(p.pid)
    tern.stop(p)
    tap.ok(tern.wait_for(lambda: not any(os.path.exists("/proc/%d" % x) for x in left), 10) and not os.path.exists(sock),
           "SIGTERM: every writer exits and the socket is gone")
    p, sock, log = start_writer(home, ["-p", "1"])
    tap.is_((writers_of(p.pid), one()), ([], 0), "-p 1: one process, no supervisor")
    tern.stop(p)
    tap.is_(len(deliver.queue_files(home)), 13, "13 messages committed, none lost")


def kept_dirs():
    """A writer opens queue/, tmp/ and mess/ once (queuewrite_open_kept)
    and checks them again by descriptor for every message: a queue moved
    aside and replaced is opened again, and a mess/ others may write is
    refused as tern-queue refuses it."""
    home = tern.make_home()
    tern.make_queue(home)
    p, sock, log = start_writer(home, ["-p", "1"])
    env = envelope(b"a@x.test", [b"u@tern.test"])
    one = [rec(b"I", fresh_id().encode()), rec(b"D", b"Subject: 1\n\n1\n"), rec(b"E", env)]
    tap.is_(talk(sock, one)[1], 0, "kept directories: first message committed")
    q = os.path.join(home, "queue")
    os.rename(q, q + ".old")
    tern.make_queue(home)
    two = [rec(b"I", fresh_id().encode()), rec(b"D", b"Subject: 2\n\n2\n"), rec(b"E", env)]
    _, code, qid = talk(sock, two)
    tap.is_(code, 0, "the queue moved aside and made again: the next message committed")
    tap.is_([m[0] for m in tern.queued_messages(home)], [qid], "into the new queue, not the old one")
    mess = os.path.join(q, "mess")
    os.chmod(mess, 0o757)
    three = [rec(b"I", fresh_id().encode()), rec(b"D", b"Subject: 3\n\n3\n"), rec(b"E", env)]
    tap.ok(talk(sock, three)[1] not in (0, None), "mess/ writable by others: refused, checked again per message")
    os.chmod(mess, 0o750)
    tap.is_(talk(sock, [rec(b"I", fresh_id().encode()), rec(b"D", b"x\n"), rec(b"E", env)])[1], 0,
            "mended: committed again")
    tern.stop(p)


def main():
    refusals()
    kept_dirs()
    writers()
    through_smtpd()
    delivered()
    killed_under_load()


tap.main(main)
