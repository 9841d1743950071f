#!/usr/bin/env python3
"""Every reply class of a remote server, end to end: tern-inject's queue ->
tern-send -> tern-remote -> a sink (tests/lib/sink.py) that answers one
stage with a 4xx, a 5xx, or drops the connection there. One cell per stage
and class; each message goes to a@CELL and b@CELL from alice@ex.test.

What each recipient becomes (docs/remote.md):
  K  delivered (EHLO refused: HELO; STARTTLS refused under `may`: plaintext;
     but never after a 421, the server closing: that defers)
  Z  deferred: tern-send tries again (the sink sees a second session);
     once the sink accepts, delivered exactly once
  D  bounced, once, with the remote's reply in the bounce in alice's
     Maildir, and never tried again

A server that refuses its greeting, HELO, or AUTH defers (it may be a
transient state of that host, qmail and Postfix do the same); a 5xx to MAIL,
to a RCPT, to DATA or after the dot bounces."""
import os

import tap
import tern
import deliver
import sink

# stage, class, sink options, expected (a, b), the reply text to find
CELLS = []


def cell(name, opts, a, b=None, text=None, host="127.0.0.2", tls=None):
    CELLS.append({"name": name, "opts": opts, "want": (a, b or a), "text": text, "host": host, "tls": tls})


for cls, code in (("4xx", "4"), ("5xx", "5")):
    t = lambda stage, c=code, k=cls: "%s%s %s.7.1 %s %s from the sink" % (c, "21" if c == "4" else "54", c, stage, k)
    # a 4xx other than 421 to EHLO or STARTTLS leaves the session open
    t451 = lambda stage, c=code, k=cls: "%s %s.7.1 %s %s from the sink" % ("451" if c == "4" else "554", c, stage, k)
    cell("greeting-" + cls, {"replies": {"greeting": t("greeting")}}, "Z", text=t("greeting"))
    cell("ehlo-" + cls, {"replies": {"ehlo": t451("ehlo")}}, "K")
    cell("helo-" + cls, {"ehlo": False, "replies": {"helo": t("helo")}}, "Z", text=t("helo"))
    cell("starttls-" + cls, {"tls": True, "replies": {"starttls": t451("starttls")}}, "K")
    cell("starttls-encrypt-" + cls, {"tls": True, "replies": {"starttls": t("starttls")}}, "Z",
         text=t("starttls"), tls="encrypt")
    cell("auth-" + cls, {"tls": True, "auth": {"user": "pw"}, "replies": {"auth": t("auth")}}, "Z",
         text=t("auth"), host="127.0.0.3")
    cell("mail-" + cls, {"replies": {"mail": t("mail")}}, "Z" if code == "4" else "D", text=t("mail"))
    cell("rcpt-" + cls, {"rcpt_replies": {"a@rcpt-%s.test" % cls: t("rcpt")}}, "Z" if code == "4" else "D", "K",
         text=t("rcpt"))
    cell("data-" + cls, {"replies": {"data": t("data")}}, "Z" if code == "4" else "D", text=t("data"))
    cell("dot-" + cls, {"replies": {"dot": t("dot")}}, "Z" if code == "4" else "D", text=t("dot"))
# 421 (RFC 5321 3.8: the server closes the channel) ends the session at any
# stage: no HELO after it, no plaintext after a 421 to STARTTLS; deferred
# with the server's words
for stage in ("ehlo", "starttls"):
    r421 = "421 4.3.2 %s: shutting down, from the sink" % stage
    cell(stage + "-421", {"tls": stage == "starttls", "replies": {stage: r421}}, "Z", text=r421)
for stage in ("greeting", "ehlo", "mail", "data", "dot"):
    cell(stage + "-drop", {"replies": {stage: "close"}}, "Z")
cell("helo-drop", {"ehlo": False, "replies": {"helo": "close"}}, "Z")
cell("starttls-drop", {"tls": True, "replies": {"starttls": "close"}}, "Z")
cell("auth-drop", {"tls": True, "auth": {"user": "pw"}, "replies": {"auth": "close"}}, "Z", host="127.0.0.3")
cell("rcpt-drop", {"rcpt_replies": {"a@rcpt-drop.test": "close"}}, "Z")


def accepted(s, rcpt):
    return sum(1 for t in s.transactions if rcpt in t["rcpts"] and t["reply"].startswith("2"))


def main():
    cert = sink.make_cert(tern.tmpdir(), "sink.test")
    routes, tlsroutes = [], []
    for c in CELLS:
        o = dict(c["opts"])
        if o.pop("tls", None):
            o["tls"] = cert
        c["sink"] = sink.Sink(c["host"], 0, **o).start()
        routes.append("%s.test:[%s]:%d" % (c["name"], c["host"], c["sink"].port))
        if c["tls"]:
            tlsroutes.append("%s.test:%s" % (c["name"], c["tls"]))
    home = deliver.instance(users=["alice@ex.test"], control={
        "smtproutes": routes, "tlsroutes": tlsroutes, "helohost": "mx.ex.test", "concurrencyremote": "100",
        "timeoutremote": "30", "timeoutconnect": "30"})
    auth = os.path.join(home, "control", "smtpauth")
    with open(auth, "w") as f:
        f.write("127.0.0.3:user:pw\n")
    os.chmod(auth, 0o600)
    p, log = deliver.start_send(home)
    for c in CELLS:
        d = c["name"] + ".test"
        r = deliver.queue(home, b"Subject: cell %s\n\nbody\n" % c["name"].encode(), "alice@ex.test",
                          ["a@" + d, "b@" + d])
        if r:
            tap.ok(False, "%s: queued" % c["name"])

    def outcome(c, who):
        addr = "%s@%s.test" % (who, c["name"])
        if log.has("success: " + addr):
            return "K"
        if log.has("failure: " + addr):
            return "D"
        if log.has("deferral: " + addr):
            return "Z"
        return None

    def settled():
        return all(outcome(c, w) for c in CELLS for w in "ab")
    tap.ok(tern.wait_for(settled, 60), "every recipient got a first outcome", log.text()[-3000:])
    first = {c["name"]: (outcome(c, "a"), outcome(c, "b")) for c in CELLS}
    for c in CELLS:
        tap.is_(first[c["name"]], c["want"], "%s: a and b become %s" % (c["name"], "/".join(c["want"])))
        if c["text"] and "Z" in c["want"]:
            line = [l for l in log.lines if "deferral: a@%s.test" % c["name"] in l]
            tap.ok(line and c["text"] in line[0], "%s: the deferral says what the remote said" % c["name"], line[:1])

    deferred = [c for c in CELLS if "Z" in c["want"]]
    tap.ok(tern.wait_for(lambda: all(c["sink"].sessions >= 2 for c in deferred), 60),
           "every deferred cell is tried again", [(c["name"], c["sink"].sessions) for c in deferred])
    for c in CELLS:   # all: a cell wrongly deferred then ends too, and fails below
        c["sink"].replies.clear()
        c["sink"].rcpt_replies.clear()
    tap.ok(deliver.wait_queue_empty(home, 60), "once the sinks accept, the queue empties",
           [(c["name"], outcome(c, "a"), outcome(c, "b")) for c in CELLS])

    bounces = [m for m in deliver.maildir_new(home, "alice") if b"Subject: failure notice" in m]
    for c in CELLS:
        s, name = c["sink"], c["name"]
        for who, want in zip("ab", c["want"]):
            rcpt = "%s@%s.test" % (who, name)
            mine = [b for b in bounces if ("Final-Recipient: rfc822; " + rcpt + "\n").encode() in b]
            if want == "D":
                tap.ok(len(mine) == 1 and ("Diagnostic-Code: smtp; " + c["text"]).encode() in mine[0]
                       and accepted(s, rcpt) == 0, "%s: %s bounced once, with the remote's reply" % (name, rcpt),
                       mine[:1])
            else:
                tap.ok(accepted(s, rcpt) == 1 and not mine, "%s: %s delivered exactly once, no bounce" % (name, rcpt),
                       (accepted(s, rcpt), len(mine)))
        if "D" in c["want"]:
            tap.is_(s.sessions, 1, "%s: a bounce is not tried again" % name)
        if name in ("ehlo-4xx", "ehlo-5xx"):
            tap.ok(s.transactions and not s.transactions[0]["esmtp"], "%s: sent after HELO" % name)
        if name in ("starttls-4xx", "starttls-5xx"):
            tap.ok("STARTTLS" in s.commands and s.transactions and not s.transactions[0]["tls"],
                   "%s: STARTTLS tried, then the message sent in plaintext (policy may)" % name)
        if name.endswith("-421"):
            at = [i for i, x in enumerate(s.commands) if x.upper().startswith(name[:-4].upper())]
            after = s.commands[at[0] + 1:] if at else []
            tap.ok(after and not after[0].upper().startswith(("HELO", "MAIL")) and s.sessions >= 2,
                   "%s: nothing more on that connection (the next command is not HELO or MAIL)" % name,
                   s.commands[:8])
        if name.startswith("starttls-encrypt"):
            tap.ok(s.transactions and s.transactions[-1]["tls"], "%s: once accepted, over TLS" % name)
        if name.startswith("auth-"):
            tap.ok(s.transactions and s.transactions[-1]["auth"] == "user", "%s: once accepted, authenticated" % name)
    tap.is_(len(bounces), sum(1 for c in CELLS if "D" in c["want"]), "one bounce per bounced message, no more")
    tap.is_(tern.stop(p), 0, "tern-send stops")


tap.main(main)
