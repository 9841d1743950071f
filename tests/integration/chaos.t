#!/usr/bin/env python3
"""Short chaos round (TERN_CHAOS_SECONDS, default 15 s of load, then at most
60 s of drain): SMTP load (plain through pooled tern-smtpd workers and
implicit TLS, both through the resident queue writer tern-queued; local and
remote recipients, remote ones in tern-remote batch runs) while tern-smtpd,
tern-queue, tern-queued, tern-send, tern-remote, tern-local, tern-tlsd and
tern-tcpserver get SIGKILL at random moments; a pooled worker, tern-queued
and a batch run in the middle of its batch are killed at least once. Then
the queue drains. Every recipient that got 250 is delivered (lost: 0);
duplicates stay within the window of docs/hardening.md (chaos.dup_bound).
The long round is tests/chaos/run."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chaos"))
import tap
import chaos


def main():
    r = chaos.run(int(os.environ.get("TERN_CHAOS_SECONDS", "15")), say=tap.note)
    tap.ok(not r["damaged"], "the instance directory survived (nothing outside the test removed it)")
    tap.ok(r["kills"] >= 10, "programs were killed (%d kills)" % r["kills"])
    sp = r["special_kills"]
    tap.ok(sp[chaos.POOLED] >= 1, "a pooled tern-smtpd worker was killed (%d)" % sp[chaos.POOLED])
    tap.ok(r["kills_by_program"].get("tern-queued", 0) >= 1,
           "tern-queued was killed (%d)" % r["kills_by_program"].get("tern-queued", 0))
    tap.ok(sp[chaos.MID_BATCH] >= 1, "a tern-remote batch run was killed in the middle of its batch (%d of %d batch-run kills)"
           % (sp[chaos.MID_BATCH], sp[chaos.BATCH]))
    tap.ok(r["remote_msgs"] > r["remote_connections"] >= 1,
           "remote messages were batched (%d over %d connections)" % (r["remote_msgs"], r["remote_connections"]))
    tap.ok(r["accepted_pairs"] >= 20, "messages were accepted meanwhile (%d recipients)" % r["accepted_pairs"])
    tap.ok(r["drained"], "the queue drained after the kills stopped")
    tap.ok(r["lost"] == 0, "lost: %d" % r["lost"], r["lost_list"])
    tap.is_(r["bounces"], 0, "nothing bounced")
    # a killed tern-send costs nothing: its runs report into job files
    tap.ok(r["extra_deliveries"] <= r["dup_bound"],
           "duplicates (%d) within the window: one message per killed delivery run, per accepting process, "
           "per client of a killed tern-queued (bound %d; %d tern-send kills)"
           % (r["extra_deliveries"], r["dup_bound"], r["kills_by_program"].get("tern-send", 0)))


tap.main(main)
