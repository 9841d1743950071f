#!/usr/bin/env python3
"""Deliveries batched per route: tern-send hands one tern-remote -b run
message after message for the same destination, over one SMTP connection
with RSET between them. A failure of one message in a batch (5xx at MAIL,
at RCPT, after the data, 4xx) fails only that message; a connection lost
in the middle of a batch defers the message in flight and the next goes
over a new connection; an idle connection
is reused for a message queued within control/remoteidle and closed (QUIT)
after it; control/remotebatch and remotelifetime end a run's connection."""
import tap
import tern
import deliver
import remotetest


def setup(control=None, sink_opts=None, users=("alice@ex.test",)):
    port, (s,) = remotetest.sinks(["127.0.0.2"], {"127.0.0.2": dict(sink_opts or {})})
    c = {"smtproutes": ["far.test:[127.0.0.2]"], "helohost": "mx.ex.test", "timeoutremote": "20",
         "concurrencyremote": "1"}
    c.update(control or {})
    home = deliver.instance(users=list(users), control=c)
    return home, s, {"TERN_SMTP_PORT": str(port)}


def queue(home, i, rcpt="r@far.test", sender="alice@ex.test"):
    code = deliver.queue(home, ("Subject: m%03d\n\nbody %d\n" % (i, i)).encode(), sender, [rcpt])
    if code != 0:
        raise RuntimeError("tern-queue exit %d" % code)


def one_connection():
    home, s, env = setup()
    for i in range(10):
        queue(home, i)
    p, log = deliver.start_send(home, extra=env)
    tap.is_(s.wait(10, 60), 10, "batch: 10 messages arrived")
    tap.ok(deliver.wait_queue_empty(home, 30), "batch: queue empty")
    tap.is_(s.sessions, 1, "batch: over one connection")
    tap.is_(sorted(remotetest.subjects(s)), ["m%03d" % i for i in range(10)], "batch: each message once")
    last = s.transactions[-1]["commands"] if s.transactions else []
    tap.is_(sum(1 for c in last if c.upper() == "RSET"), 9, "batch: RSET between the messages")
    tap.is_(sum(1 for c in last if c.upper().startswith("EHLO")), 1, "batch: one EHLO")
    tap.is_(tern.stop(p), 0, "batch: tern-send stops")
    tap.ok(tern.wait_for(lambda: "QUIT" in s.commands, 10), "batch: the run said QUIT at the end")
    tap.ok(tern.wait_for(lambda: log.has("tern-remote batch runs: 1, messages given to them: 10"), 10),
           "batch: logged at exit", log.text()[-500:])


def failures():
    home, s, env = setup(control={"retryschedule": "1"}, users=("alice@ex.test", "mr@ex.test"), sink_opts={
        "rcpt_replies": {"bad@far.test": "550 5.1.1 no such user here",
                         "later@far.test": "451 4.3.0 try again later"},
        "dot_replies": {"dot@far.test": "554 5.6.0 content refused"},
        "mail_replies": {"mr@ex.test": "553 5.7.1 sender not allowed"}})
    plan = [("ok1@far.test", "alice@ex.test"), ("bad@far.test", "alice@ex.test"), ("ok2@far.test", "alice@ex.test"),
            ("dot@far.test", "alice@ex.test"), ("later@far.test", "alice@ex.test"), ("x@far.test", "mr@ex.test"),
            ("ok3@far.test", "alice@ex.test")]
    for i, (r, f) in enumerate(plan):
        queue(home, i, r, f)
    p, log = deliver.start_send(home, extra=env)
    for r, what in (("ok1@", "success"), ("ok2@", "success"), ("ok3@", "success"), ("bad@", "failure"),
                    ("dot@", "failure"), ("later@", "deferral"), ("x@far.test", "failure")):
        tap.ok(tern.wait_for(lambda: log.has("%s: %s" % (what, r)), 30), "failures: %s %s" % (r, what),
               log.text()[-3000:])
    tap.is_(s.sessions, 1, "failures: every message of the batch over the one connection")
    ok_sub = sorted(t for t in remotetest.subjects(s) if t in ("m000", "m002", "m006"))
    tap.is_(ok_sub, ["m000", "m002", "m006"], "failures: the others were delivered")
    tap.ok(deliver.wait_maildir(home, "alice", 2, 30), "failures: two bounces for alice")
    bounces = b"".join(deliver.maildir_new(home, "alice"))
    tap.like(bounces, b"Final-Recipient: rfc822; bad@far.test", "failures: 550 at RCPT bounced")
    tap.like(bounces, b"Diagnostic-Code: smtp; 554 5.6.0 content refused", "failures: 554 after the data bounced")
    tap.ok(deliver.wait_maildir(home, "mr", 1, 30), "failures: 553 at MAIL bounced to its sender")
    tap.like(b"".join(deliver.maildir_new(home, "mr")), b"553 5.7.1 sender not allowed", "failures: with the reply")
    tap.ok(b"later@far.test" not in bounces, "failures: 451 not bounced")
    tap.ok(tern.wait_for(lambda: log.count("deferral: later@far.test") >= 2, 30), "failures: 451 retried")
    s.rcpt_replies.pop("later@far.test", None)
    tap.ok(deliver.wait_queue_empty(home, 30), "failures: delivered once the remote accepts")
    tap.ok("m004" in remotetest.subjects(s), "failures: the sink got the retried message")
    tap.is_(tern.stop(p), 0, "failures: tern-send stops")


def dropped():
    home, s, env = setup(control={"retryschedule": "1"}, sink_opts={"dot_replies": {"drop@far.test": "close"}})
    p, log = deliver.start_send(home, extra=env)
    for i, (r, what) in enumerate((("a@far.test", "success"), ("drop@far.test", "deferral"), ("b@far.test", "success"))):
        queue(home, i, r)
        tap.ok(tern.wait_for(lambda: log.has("%s: %s" % (what, r)), 30), "dropped: %s %s" % (r, what),
               log.text()[-2000:])
    tap.like(log.text(), "may arrive twice", "dropped: the message in flight deferred, saying it may arrive twice")
    sess = {x: t["session"] for x, t in zip(remotetest.subjects(s), s.transactions)}
    tap.ok(sess.get("m000") and sess.get("m002") and sess["m002"] > sess["m000"],
           "dropped: the next message over a new connection (%r)" % sess)
    s.dot_replies.pop("drop@far.test", None)
    tap.ok(deliver.wait_queue_empty(home, 30), "dropped: delivered on its retry")
    tap.ok("m001" in remotetest.subjects(s), "dropped: the sink got it")
    tern.stop(p)


def idle():
    home, s, env = setup(control={"remoteidle": "15"})
    p, log = deliver.start_send(home, extra=env)
    queue(home, 0)
    tap.is_(s.wait(1), 1, "idle: first message delivered")
    queue(home, 1)
    tap.is_(s.wait(2), 2, "idle: second message delivered")
    tap.is_([t["session"] for t in s.transactions], [1, 1], "idle: over the idle connection")
    tap.is_(s.ended, 0, "idle: the connection stays open while idle")
    tern.stop(p)
    tap.ok(tern.wait_for(lambda: s.ended == 1, 15), "idle: closed when tern-send stops")
    # control/remoteidle 1: closed after a second without a message
    home, s, env = setup(control={"remoteidle": "1"})
    p, log = deliver.start_send(home, extra=env)
    queue(home, 0)
    tap.is_(s.wait(1), 1, "idle 1: first message delivered")
    tap.ok(tern.wait_for(lambda: s.ended == 1, 20), "idle 1: the connection closed after the idle time")
    tap.ok("QUIT" in s.commands, "idle 1: with QUIT")
    queue(home, 1)
    tap.is_(s.wait(2), 2, "idle 1: the next message delivered")
    tap.is_([t["session"] for t in s.transactions], [1, 2], "idle 1: over a new connection")
    tern.stop(p)
    # control/remoteidle 0: no waiting at all
    home, s, env = setup(control={"remoteidle": "0"})
    p, log = deliver.start_send(home, extra=env)
    for i in range(2):
        queue(home, i)
        tap.is_(s.wait(i + 1), i + 1, "idle 0: message %d delivered" % i)
    tap.is_(s.sessions, 2, "idle 0: a connection per message")
    tern.stop(p)


def limits():
    home, s, env = setup(control={"remotebatch": "3"})
    for i in range(7):
        queue(home, i)
    p, log = deliver.start_send(home, extra=env)
    tap.is_(s.wait(7, 60), 7, "remotebatch 3: 7 messages arrived")
    per = [sum(1 for t in s.transactions if t["session"] == k) for k in range(1, s.sessions + 1)]
    tap.is_(per, [3, 3, 1], "remotebatch 3: at most 3 per connection")
    tern.stop(p)
    home, s, env = setup(control={"remotebatch": "1"})
    for i in range(3):
        queue(home, i)
    p, log = deliver.start_send(home, extra=env)
    tap.is_(s.wait(3, 60), 3, "remotebatch 1: 3 messages arrived")
    tap.is_(s.sessions, 3, "remotebatch 1: one-shot runs, a connection each")
    tap.ok(not log.has("batch runs"), "remotebatch 1: no batch run")
    tern.stop(p)
    home, s, env = setup(control={"remotelifetime": "1", "remoteidle": "30"})
    p, log = deliver.start_send(home, extra=env)
    queue(home, 0)
    tap.is_(s.wait(1), 1, "remotelifetime 1: first message delivered")
    # remoteidle is 30: a close within the 20 s bound is the lifetime's
    tap.ok(tern.wait_for(lambda: s.ended == 1, 20), "remotelifetime 1: the idle run closed after its lifetime")
    queue(home, 1)
    tap.is_(s.wait(2), 2, "remotelifetime 1: the next message delivered")
    tap.is_(s.sessions, 2, "remotelifetime 1: over a new connection")
    tern.stop(p)


def main():
    one_connection()
    failures()
    dropped()
    idle()
    limits()


tap.main(main)
