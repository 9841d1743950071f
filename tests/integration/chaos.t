#!/usr/bin/env python3
"""Short chaos round: SMTP load (plain through pooled tern-smtpd workers and
implicit TLS, local and remote recipients) while tern-smtpd, tern-queue, tern-send, tern-remote, tern-local,
tern-tlsd and tern-tcpserver get SIGKILL at random moments; then the queue drains. Every
recipient that got 250 is delivered (lost: 0); duplicates stay within the
window of docs/hardening.md (killed delivery runs; a killed tern-send makes
none). The long round is tests/chaos/run."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chaos"))
import tap
import chaos


def main():
    r = chaos.run(int(os.environ.get("TERN_CHAOS_SECONDS", "15")), say=tap.note)
    tap.ok(not r["damaged"], "the instance directory survived (nothing outside the test removed it)")
    tap.ok(r["kills"] >= 10, "programs were killed (%d kills)" % r["kills"])
    tap.ok(r["accepted_pairs"] >= 20, "messages were accepted meanwhile (%d recipients)" % r["accepted_pairs"])
    tap.ok(r["drained"], "the queue drained after the kills stopped")
    tap.ok(r["lost"] == 0, "lost: %d" % r["lost"], r["lost_list"])
    tap.is_(r["bounces"], 0, "nothing bounced")
    # a killed tern-send costs nothing: its runs report into job files
    bound = 2 * (r["kills_by_program"].get("tern-remote", 0) + r["kills_by_program"].get("tern-local", 0))
    tap.ok(r["extra_deliveries"] <= bound,
           "duplicates (%d) within the window: at most one per delivery run killed (bound %d; %d tern-send kills)"
           % (r["extra_deliveries"], bound, r["kills_by_program"].get("tern-send", 0)))


tap.main(main)
