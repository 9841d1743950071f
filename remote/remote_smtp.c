/* remote_smtp.c: the SMTP client dialogue of tern-remote (RFC 5321, 2920, 1870, 3207, 4954). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/types.h>
#include <skalibs/bytestr.h>
#include <skalibs/strerr.h>
#include "report.h"
#include "dataenc.h"
#include "remote_route.h"
#include "remote_auth.h"
#include "dsn.h"
#include "remote_smtp.h"

#define REPLY_LINES_MAX 100
#define PIPELINE_GROUP 100   /* RCPTs written before their replies are read */

static int reply_line(sess *s, int *code, unsigned int n)
{
  char const *l = s->line.s;
  size_t len = s->line.len;
  int c;
  if (len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9'
   || (len > 3 && l[3] != ' ' && l[3] != '-'))
  { s->c->err = "malformed reply from the remote host"; return -1; }
  c = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
  if (*code && c != *code) { s->c->err = "inconsistent multi-line reply"; return -1; }
  *code = c;
  if (!stralloc_cats(&s->text, n ? " / " : "") || (!n && !stralloc_catb(&s->text, l, 3))
   || (!n && len > 4 && !stralloc_cats(&s->text, " "))
   || !stralloc_catb(&s->text, l + (len > 4 ? 4 : len), len > 4 ? len - 4 : 0))
  { s->c->err = "out of memory"; return -1; }
  if (!stralloc_catb(&s->ext, l + (len > 4 ? 4 : len), len > 4 ? len - 4 : 0) || !stralloc_0(&s->ext))
  { s->c->err = "out of memory"; return -1; }
  return len == 3 || l[3] == ' ';
}

/* Reads one reply; returns its code, or -1 (c->err says why). */
static int getreply(sess *s)
{
  unsigned int n;
  int code = 0;
  s->text.len = s->ext.len = 0;
  for (n = 0; n < REPLY_LINES_MAX; n++)
  {
    int r;
    if (!conn_getline(s->c, &s->line)) { s->dropped = 1; return -1; }
    r = reply_line(s, &code, n);
    if (r < 0) { s->dropped = 1; return -1; }
    if (r)
    {
      if (!stralloc_0(&s->text)) { s->c->err = "out of memory"; s->dropped = 1; return -1; }
      s->text.len--;
      /* 421: the server is closing the connection: no next message on it */
      if (code == 421) s->dropped = 1;
      return code;
    }
  }
  s->c->err = "reply with too many lines";
  s->dropped = 1;
  return -1;
}

/* why = "HOST said: REPLY" or "HOST: what failed". */
static void explain(sess *s, stralloc *out, char const *pre, int useful_reply)
{
  out->len = 0;
  if (pre && *pre && (!stralloc_cats(out, pre) || !stralloc_cats(out, ": "))) goto oom;
  if (!stralloc_cats(out, s->host)) goto oom;
  if (useful_reply)
  { if (!stralloc_cats(out, " said: ") || !stralloc_catb(out, s->text.s, s->text.len)) goto oom; }
  else if (!stralloc_cats(out, ": ") || !stralloc_cats(out, s->c->err ? s->c->err : "protocol error")) goto oom;
  if (stralloc_0(out)) return;
 oom:
  out->len = 0;
  stralloc_copys(out, "out of memory");
  stralloc_0(out);
}

static char status_of(int code)
{
  return code >= 200 && code < 300 ? REPORT_OK : code >= 500 && code < 600 ? REPORT_PERM : REPORT_TEMP;
}

/* Gives a status and text to the recipients without one (which 0), those
 * accepted at RCPT and waiting for the end of DATA (which 1), or both (2). */
static void settle(sess *s, char st, char const *pre, int useful_reply, int which)
{
  size_t i;
  for (i = 0; i < s->job->nrcpt; i++)
  {
    rres *r = s->res + i;
    if (!(r->status == 'A' ? which >= 1 : r->status == 0 ? which != 1 : 0)) continue;
    r->status = st;
    explain(s, &r->text, pre, useful_reply);
  }
}

static int next(sess *s, char const *pre, int useful_reply)
{
  explain(s, s->why, pre, useful_reply);
  return SMTP_NEXT;
}

static int cmd(sess *s, char const *a, char const *b)
{
  return conn_puts(s->c, a) && (!b || conn_puts(s->c, b)) && conn_put(s->c, "\r\n", 2);
}

static void parse_ehlo(sess *s)
{
  size_t i = 0;
  int first = 1;
  s->pipelining = s->starttls = s->auth_plain = s->auth_login = s->dsn = 0;
  s->size = 0;
  while (i < s->ext.len)
  {
    char const *l = s->ext.s + i;
    size_t n = strlen(l);
    i += n + 1;
    if (first) { first = 0; continue; }
    if (!strcasecmp(l, "PIPELINING")) s->pipelining = 1;
    else if (!strcasecmp(l, "STARTTLS")) s->starttls = 1;
    else if (!strcasecmp(l, "DSN")) s->dsn = 1;
    else if (!strncasecmp(l, "SIZE ", 5)) uint640_scan(l + 5, &s->size);
    else if (!strncasecmp(l, "AUTH ", 5) || !strncasecmp(l, "AUTH=", 5))
    {
      char const *m = l + 5;
      for (;;)
      {
        while (*m == ' ') m++;
        if (!*m) break;
        if (!strncasecmp(m, "PLAIN", 5) && (!m[5] || m[5] == ' ')) s->auth_plain = 1;
        if (!strncasecmp(m, "LOGIN", 5) && (!m[5] || m[5] == ' ')) s->auth_login = 1;
        while (*m && *m != ' ') m++;
      }
    }
  }
}

/* EHLO, or HELO when EHLO is refused. 1 ok, 0 failed. */
static int hello(sess *s, int esmtp_only)
{
  int code;
  if (!cmd(s, "EHLO ", s->job->helo) || !conn_flush(s->c)) return 0;
  code = getreply(s);
  if (code < 0) return 0;
  if (code == 250) { parse_ehlo(s); return 1; }
  /* 421: the server is closing; HELO there would only lose its reason */
  if (esmtp_only || s->dropped) return 0;
  s->ext.len = 0;
  parse_ehlo(s);
  if (!cmd(s, "HELO ", s->job->helo) || !conn_flush(s->c)) return 0;
  code = getreply(s);
  return code == 250;
}

/* STARTTLS as the policy says. 1 go on (with or without TLS), or an outcome. */
static int tls_step(sess *s, char const *tlsname, int notls, int *outcome)
{
  char err[200];
  int code, pol = s->job->tlspolicy;
  if (pol == TLS_NONE || notls) return 1;
  if (!s->starttls)
  {
    s->tlsres = "starttls-not-supported";
    if (pol == TLS_MAY) return 1;
    s->c->err = "TLS is required but the host does not offer STARTTLS";
    *outcome = next(s, 0, 0);
    return 0;
  }
  if (!cmd(s, "STARTTLS", 0) || !conn_flush(s->c) || (code = getreply(s)) < 0)
  { *outcome = next(s, 0, 0); return 0; }
  if (code != 220)
  {
    s->tlsres = "starttls-not-supported";
    if (pol == TLS_MAY && !s->dropped) return 1;
    /* 421 ends the session whatever the policy: no plaintext on it */
    *outcome = next(s, s->dropped ? "STARTTLS refused" : "TLS is required, STARTTLS refused", 1);
    return 0;
  }
  if (conn_buffered(s->c))
  {
    /* Bytes before the handshake would be read as replies inside TLS. */
    s->c->err = "the host sent data after its STARTTLS reply";
    *outcome = next(s, 0, 0);
    return 0;
  }
  s->c->tls = (pol != TLS_VERIFY && s->job->observe ? rtls_start_observe : rtls_start)(s->c->fd, s->c->timeout, tlsname,
                         pol == TLS_VERIFY || s->job->observe ? s->job->anchors : 0, s->job->suites, err, sizeof err);
  s->tlsres = s->c->tls ? rtls_result(rtls_observed(s->c->tls)) : rtls_result(err);
  if (!s->c->tls)
  {
    s->c->err = err;
    *outcome = next(s, 0, 0);
    if (pol == TLS_MAY) *outcome = SMTP_PLAIN;
    return 0;
  }
  if (!hello(s, 1)) { *outcome = next(s, "after STARTTLS", s->c->err == 0); return 0; }
  return 1;
}

/* Sends a command (a, then b) and reads the reply: its code, or -1. */
static int exchange(sess *s, char const *a, char const *b)
{
  return cmd(s, a, b) && conn_flush(s->c) ? getreply(s) : -1;
}

static void wipe(stralloc *sa)
{
  if (sa->s) memset(sa->s, 0, sa->a);
  sa->len = 0;
}

/* AUTH PLAIN when offered (one round trip), else LOGIN (RFC 4954). */
static int auth_step(sess *s)
{
  stralloc b = STRALLOC_ZERO;
  char const *user = s->job->user, *pass = s->job->pass;
  int code;
  if (s->auth_plain)
    code = auth_plain(&b, user, pass) ? exchange(s, "AUTH PLAIN ", b.s) : -1;
  else
  {
    code = exchange(s, "AUTH LOGIN", 0);
    if (code == 334) code = auth_b64(&b, user, strlen(user)) ? exchange(s, b.s, 0) : -1;
    wipe(&b);
    if (code == 334) code = auth_b64(&b, pass, strlen(pass)) ? exchange(s, b.s, 0) : -1;
  }
  wipe(&b);
  stralloc_free(&b);
  if (code == 235) return 1;
  settle(s, REPORT_TEMP, "authentication failed", code > 0, 0);
  return 0;
}

static int can_auth(sess *s, int *outcome)
{
  if (!s->job->user) return 1;
  if (!s->c->tls)
  {
    s->c->err = "not sending our AUTH password without TLS";
    *outcome = next(s, 0, 0);
    return 0;
  }
  if (!s->auth_plain && !s->auth_login) return 1;   /* try without */
  if (!auth_step(s)) { *outcome = SMTP_DONE; return 0; }
  return 1;
}

static int put_mail(sess *s)
{
  char num[UINT64_FMT];
  if (!conn_puts(s->c, "MAIL FROM:<") || !conn_puts(s->c, s->job->sender) || !conn_puts(s->c, ">"))
    return 0;
  /* SIZE= only to a server that announced SIZE (RFC 1870). */
  if (s->size && (!conn_puts(s->c, " SIZE=") || !conn_put(s->c, num, uint64_fmt(num, s->job->msglen))))
    return 0;
  /* the DSN parameters only to a server that announced DSN (RFC 3461) */
  if (s->dsn && s->job->mparams && (!conn_puts(s->c, " ") || !conn_puts(s->c, s->job->mparams))) return 0;
  return conn_put(s->c, "\r\n", 2);
}

static int put_rcpt(sess *s, size_t i)
{
  char const *p = s->job->rparams ? s->job->rparams[i] : 0;
  return conn_puts(s->c, "RCPT TO:<") && conn_puts(s->c, s->job->rcpts[i]) && conn_puts(s->c, ">")
      && (!s->dsn || !p || (conn_puts(s->c, " ") && conn_puts(s->c, p))) && conn_put(s->c, "\r\n", 2);
}

/* A next hop that speaks DSN reports from now on: tern-send must not
 * (lib/dsn.h, DSN_PASSED). */
static void note_dsn(sess *s)
{
  size_t i;
  for (i = 0; i < s->job->nrcpt; i++)
  {
    stralloc *t = &s->res[i].text, old = STRALLOC_ZERO;
    if (s->res[i].status != REPORT_OK) continue;
    if (!stralloc_copy(&old, t) || !stralloc_copys(t, DSN_PASSED) || !stralloc_catb(t, old.s, old.len)) t->len = 0;
    if (!old.len && !stralloc_0(t)) t->len = 0;
    stralloc_free(&old);
  }
}

/* The MAIL reply. 1 go on, 0 the transaction is over (statuses set). */
static int mail_reply(sess *s)
{
  int code = getreply(s);
  if (code < 0) { settle(s, REPORT_TEMP, "connection lost", 0, 2); return 0; }
  if (code / 100 == 2) return 1;
  if (code == 530)
  {
    /* "authentication required" (RFC 4954): our configuration is missing
     * or wrong, not the message: temporary, and say what is missing */
    strerr_warnw(s->host, " requires AUTH (530 at MAIL): ",
                 !s->job->user ? "control/smtpauth has no entry for this relay (write it as smtproutes does)"
                 : !s->auth_plain && !s->auth_login ? "it offered no AUTH mechanism we speak (PLAIN, LOGIN)"
                 : "AUTH was not accepted");
    settle(s, REPORT_TEMP, "sender refused (authentication required: see control/smtpauth)", 1, 0);
    return 0;
  }
  settle(s, status_of(code) == REPORT_PERM ? REPORT_PERM : REPORT_TEMP, "sender refused", 1, 0);
  return 0;
}

/* One RCPT reply for recipient i. 1 read, 0 connection failed (statuses set). */
static int rcpt_reply(sess *s, size_t i)
{
  int code = getreply(s);
  if (code < 0) { settle(s, REPORT_TEMP, "connection lost", 0, 2); return 0; }
  if (code / 100 == 2) s->res[i].status = 'A';
  else
  {
    s->res[i].status = status_of(code) == REPORT_PERM ? REPORT_PERM : REPORT_TEMP;
    explain(s, &s->res[i].text, "recipient refused", 1);
  }
  return 1;
}

static size_t accepted(sess *s)
{
  size_t i, n = 0;
  for (i = 0; i < s->job->nrcpt; i++) n += s->res[i].status == 'A';
  return n;
}

/* MAIL was refused with n RCPTs (and DATA) pipelined behind it: their
 * replies are read and ignored, so the next message on the connection
 * reads its own. Returns 0 (the transaction is over). */
static int drain(sess *s, size_t n, int data)
{
  size_t i;
  for (i = 0; i < n + (data ? 1 : 0); i++)
  {
    int code = getreply(s);
    if (code < 0) return 0;
    if (code == 354) { s->dropped = 1; return 0; }   /* in DATA after a refused MAIL: cannot go on */
  }
  return 0;
}

/* MAIL, RCPT..., DATA, pipelined when offered (RFC 2920) or one by one.
 * 1 ready for the message, 0 the transaction is over (statuses set). */
static int envelope_step(sess *s)
{
  size_t i;
  int code;
  if (!put_mail(s)) goto lost;
  if (s->pipelining)
  {
    /* In groups, reading the replies after each: with thousands of
     * recipients the replies could fill both socket buffers while we are
     * still writing, and both sides would wait on each other. */
    size_t done = 0, end;
    do
    {
      end = s->job->nrcpt - done > PIPELINE_GROUP ? done + PIPELINE_GROUP : s->job->nrcpt;
      for (i = done; i < end; i++) if (!put_rcpt(s, i)) goto lost;
      if (end == s->job->nrcpt && !cmd(s, "DATA", 0)) goto lost;
      if (!conn_flush(s->c)) goto lost;
      if (!done && !mail_reply(s)) return drain(s, end - done, end == s->job->nrcpt);
      for (i = done; i < end; i++) if (!rcpt_reply(s, i)) return 0;
      done = end;
    } while (done < s->job->nrcpt);
  }
  else
  {
    if (!conn_flush(s->c)) goto lost;
    if (!mail_reply(s)) return 0;
    for (i = 0; i < s->job->nrcpt; i++)
    {
      if (!put_rcpt(s, i) || !conn_flush(s->c)) goto lost;
      if (!rcpt_reply(s, i)) return 0;
    }
    if (!accepted(s)) return 0;
    if (!cmd(s, "DATA", 0) || !conn_flush(s->c)) goto lost;
  }
  code = getreply(s);
  /* 354 with no recipient: the server waits for data we will not send */
  if (code == 354 && !accepted(s)) s->dropped = 1;
  if (!accepted(s)) return 0;
  if (code < 0) goto lost;
  if (code != 354)
  {
    settle(s, code / 100 == 5 ? REPORT_PERM : REPORT_TEMP, "DATA refused", 1, 1);
    return 0;
  }
  return 1;
 lost:
  s->dropped = 1;
  settle(s, REPORT_TEMP, "connection lost", 0, 2);
  return 0;
}

/* Says in each delivered recipient's text that the session was encrypted. */
static void note_tls(sess *s)
{
  size_t i;
  for (i = 0; i < s->job->nrcpt; i++)
  {
    stralloc *t = &s->res[i].text;
    if (s->res[i].status != REPORT_OK || !t->len) continue;
    t->len--;
    if (!stralloc_cats(t, " (") || !stralloc_cats(t, rtls_describe(s->c->tls))
     || !stralloc_cats(t, s->job->tlspolicy == TLS_VERIFY ? ", verified)" : ")")) t->len = 0;
    stralloc_0(t);
  }
}

/* Sends the message and reads the final reply. */
static void data_step(sess *s)
{
  char buf[8192];
  stralloc out = STRALLOC_ZERO;
  dataenc e = DATAENC_ZERO;
  uint64_t off = 0;
  int code;
  while (off < s->job->msglen)
  {
    uint64_t want = s->job->msglen - off;
    ssize_t r = pread(s->job->msgfd, buf, want < sizeof buf ? (size_t)want : sizeof buf, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
    {
      /* Never send the final dot after a short read: drop the connection. */
      s->c->err = "cannot read the message from the queue file";
      goto fail;
    }
    off += (uint64_t)r;
    out.len = 0;
    if (!dataenc_put(&e, buf, (size_t)r, &out)) { s->c->err = "out of memory"; goto fail; }
    if (!conn_put(s->c, out.s, out.len)) goto fail;
  }
  out.len = 0;
  if (!dataenc_end(&e, &out) || !conn_put(s->c, out.s, out.len) || !conn_flush(s->c)) goto fail;
  stralloc_free(&out);
  code = getreply(s);
  if (code < 0)
  {
    s->dropped = 1;
    settle(s, REPORT_TEMP, "connection lost after the message was sent (it may arrive twice)", 0, 1);
    return;
  }
  settle(s, status_of(code), code / 100 == 2 ? "" : "message refused", 1, 1);
  if (s->c->tls) note_tls(s);
  if (s->dsn) note_dsn(s);
  return;
 fail:
  stralloc_free(&out);
  s->dropped = 1;
  settle(s, REPORT_TEMP, "message not sent", 0, 1);
}

static void quit(sess *s)
{
  unsigned int t = s->c->timeout;
  /* The answer to QUIT changes nothing: do not wait for it long. */
  s->c->timeout = t < 10 ? t : 10;
  if (cmd(s, "QUIT", 0) && conn_flush(s->c)) getreply(s);
  s->c->timeout = t;
}

int smtp_open(sess *s, char const *tlsname, int notls)
{
  conn *c = s->c;
  int code, outcome = SMTP_READY;
  c->err = 0;
  s->dropped = 0;
  s->used = 0;
  s->tlsres = 0;
  code = getreply(s);
  if (code < 0) outcome = next(s, "no greeting", 0);
  else if (code / 100 != 2) outcome = next(s, "greeting refused", 1);
  else if (!hello(s, 0)) outcome = next(s, "HELO refused", !c->err);
  else if (tls_step(s, tlsname, notls, &outcome)) can_auth(s, &outcome);
  /* AUTH refused: every recipient has its status; the session ends */
  if (outcome == SMTP_DONE)
  {
    c->err = "no reply for this recipient";
    settle(s, REPORT_TEMP, 0, 0, 2);
  }
  return outcome;
}

/* RSET before a message on a used connection (RFC 5321 4.1.1.5): a
 * refused or unanswered one means the connection is no good. */
static int rset(sess *s)
{
  int code = exchange(s, "RSET", 0);
  if (code / 100 == 2) return 1;
  s->dropped = 1;
  return 0;
}

int smtp_message(sess *s)
{
  conn *c = s->c;
  c->err = 0;
  if (s->dropped || (s->used && !rset(s))) return 0;
  s->used++;
  if (s->size && s->job->msglen > s->size)
  {
    c->err = "the message is larger than the host's SIZE limit";
    settle(s, REPORT_PERM, "message too big", 0, 0);
  }
  else if (envelope_step(s)) data_step(s);
  c->err = "no reply for this recipient";
  settle(s, REPORT_TEMP, 0, 0, 2);
  return 1;
}

void smtp_close(sess *s)
{
  if (!s->dropped) quit(s);
  s->dropped = 1;
  stralloc_free(&s->line);
  stralloc_free(&s->text);
  stralloc_free(&s->ext);
}
