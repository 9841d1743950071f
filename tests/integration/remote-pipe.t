#!/usr/bin/env python3
# tern-remote when the server hangs up in the middle of the message: the
# write fails, and the recipient still gets a record (Z, with the reason),
# not a missing one from a program killed by SIGPIPE.
import socket
import threading
import tap
import tern
import remotetest


def server(sock):
    c, _ = sock.accept()
    f = c.makefile("rb")
    c.sendall(b"220 rude.test ESMTP\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        verb = line[:4].upper()
        if verb == b"EHLO":
            c.sendall(b"250-rude.test\r\n250 PIPELINING\r\n")
        elif verb == b"DATA":
            c.sendall(b"354 go ahead\r\n")
            # hang up at once, with unread data: the peer gets a reset
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
            break
        else:
            c.sendall(b"250 ok\r\n")
    sock.close()


def main():
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.listen(1)
    port = s.getsockname()[1]
    threading.Thread(target=server, args=(s,), daemon=True).start()
    home = tern.make_home({"smtproutes": "rude.test:127.0.0.2:%d" % port, "timeoutremote": "10"})
    body = b"Subject: big\n\n" + (b"x" * 999 + b"\n") * 8000
    recs, err, code = remotetest.run(home, "rude.test", "a@tern.test", ["u@rude.test"], body)
    tap.is_(code, 0, "tern-remote exits normally, not by a signal")
    tap.is_(len(recs), 1, "one record for the one recipient")
    tap.ok(recs and recs[0][0] == "Z", "a temporary failure: the message is tried again", recs)
    tap.like(recs[0][1] if recs else "", "127.0.0.2", "the record names the host it was talking to")


tap.main(main)
