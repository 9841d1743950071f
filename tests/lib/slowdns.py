"""slowdns.py: a tiny DNS responder over UDP on 127.0.0.1 for tests that need
what dnsmasq cannot give: answers that come late or never, and TXT records
with arbitrary bytes. It runs in a thread of the test process.

    dns = SlowDNS({"2.0.0.127.bl.test": [("A", "127.0.0.2"), ("TXT", b"listed")]},
                  zones={"bl.test": 0.0, "slow.test": 1.5, "dead.test": None})
    env TERN_DNS=dns.addr ... ; dns.close()

zones maps a zone to the delay of its answers in seconds (None: never
answer). A name in a zone with no records gets NXDOMAIN; a name outside every
zone gets REFUSED. Only A, AAAA and TXT records; one question per query.
host and port choose where it listens (default: 127.0.0.1, a free port).
"""
import heapq
import select
import socket
import struct
import threading
import time

_TYPES = {"A": 1, "TXT": 16, "AAAA": 28}


def _parse_query(data):
    """(id, flags, qname lowercased, qtype, question bytes) or None."""
    if len(data) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if qd != 1 or flags & 0x8000:
        return None
    labels, i = [], 12
    while True:
        if i >= len(data):
            return None
        n = data[i]
        i += 1
        if n == 0:
            break
        if n > 63 or i + n > len(data):
            return None
        labels.append(data[i:i + n].decode("ascii", "replace").lower())
        i += n
    if i + 4 > len(data):
        return None
    qtype = struct.unpack("!H", data[i:i + 2])[0]
    return qid, flags, ".".join(labels), qtype, data[12:i + 4]


def _rdata(rtype, value):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    b = value if isinstance(value, bytes) else value.encode()
    out = b""
    for k in range(0, max(len(b), 1), 255):
        chunk = b[k:k + 255]
        out += bytes([len(chunk)]) + chunk
    return out


class SlowDNS:
    def __init__(self, records, zones, host="127.0.0.1", port=0):
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        self.zones = {k.lower().rstrip("."): v for k, v in zones.items()}
        self.queries = []          # (time, name, qtype) as received
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.addr = "%s:%d" % (host, self.sock.getsockname()[1])
        self._stop = False
        self._due = []             # heap of (when, seq, packet, peer)
        self._seq = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _zone(self, name):
        best = None
        for z in self.zones:
            if (name == z or name.endswith("." + z)) and (best is None or len(z) > len(best)):
                best = z
        return best

    def _answer(self, q):
        qid, flags, name, qtype, question = q
        zone = self._zone(name)
        if zone is None:
            return None, struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | 5, 1, 0, 0, 0) + question
        recs = self.records.get(name)
        if recs is None:
            rcode, answers = 3, []
        else:
            rcode = 0
            answers = [r for r in recs if _TYPES[r[0]] == qtype]
        body = b""
        for rtype, value in answers:
            rd = _rdata(rtype, value)
            body += struct.pack("!HHHIH", 0xC00C, _TYPES[rtype], 1, 60, len(rd)) + rd
        head = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1, len(answers), 0, 0)
        return self.zones[zone], head + question + body

    def _run(self):
        while not self._stop:
            now = time.monotonic()
            while self._due and self._due[0][0] <= now:
                _, _, pkt, peer = heapq.heappop(self._due)
                try:
                    self.sock.sendto(pkt, peer)
                except OSError:
                    pass
            wait = 0.05 if not self._due else max(0.0, min(0.05, self._due[0][0] - now))
            r, _, _ = select.select([self.sock], [], [], wait)
            if not r:
                continue
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            q = _parse_query(data)
            if q is None:
                continue
            self.queries.append((time.monotonic(), q[2], q[3]))
            delay, pkt = self._answer(q)
            if pkt is None:
                continue
            if delay is None and self._zone(q[2]) is not None:
                continue                        # a zone that never answers
            self._seq += 1
            heapq.heappush(self._due, (time.monotonic() + (delay or 0.0), self._seq, pkt, peer))

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()
