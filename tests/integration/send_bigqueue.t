#!/usr/bin/env python3
"""tern-send started on a queue longer than SEND_SCAN_EARLY (256): deliveries
begin during the first scan, and still every message goes out exactly once."""
import tap
import tern
import deliver

N = 300   # more than SEND_SCAN_EARLY in send/send.h


def main():
    home = deliver.instance()
    fb, fd = deliver.fake_remote()
    for i in range(N):
        code = deliver.queue(home, b"Subject: big %d\n\nx\n" % i, "a@ex.test", ["r%d@far.test" % i])
        if code:
            tap.is_(code, 0, "tern-queue exits 0")
            return
    tap.is_(len(deliver.queue_files(home)), N, "%d messages queued before tern-send starts" % N)
    p, log = deliver.start_send(home, extra={"FAKE_REMOTE_DIR": fd}, path_first=fb)
    tap.ok(deliver.wait_queue_drains(home), "queue drained (while it keeps shrinking)")
    subjects = sorted(r["subject"] for r in deliver.runs(fd))
    tap.is_(subjects, sorted("big %d" % i for i in range(N)), "each message delivered exactly once")
    tap.is_(log.count("new msg "), N, "each message loaded once")


tap.main(main)
