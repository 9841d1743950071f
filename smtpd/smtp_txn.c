/* smtp_txn.c: one mail transaction of tern-smtpd (smtp_txn.h): MAIL and
 * RCPT into the envelope, the DATA phase (into the queue), the Received
 * header, and the one log line. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "qexit.h"
#include "queueid.h"
#include "smtp_data.h"
#include "smtp_guard.h"
#include "smtp_log.h"
#include "smtp_queue.h"
#include "smtp_tarpit.h"
#include "smtp_txn.h"

/* The log keeps the first recipients; a flood of refusals cannot grow it. */
#define TXN_LOG_MAX 4096

void smtp_txn_free(smtp_txn *t)
{
  stralloc_free(&t->envelope);
  stralloc_free(&t->log);
  addr_free(&t->m.a);
}

/* One recipient on the log line: a (0: unknown) and what became of it. */
static void logrcpt(smtp_txn *t, char const *a, char const *what)
{
  if (t->log.len > TXN_LOG_MAX) return;
  if (!stralloc_cats(&t->log, " to=<") || !stralloc_cats(&t->log, a ? a : "?")
   || !stralloc_cats(&t->log, "> (") || !stralloc_cats(&t->log, what) || !stralloc_cats(&t->log, ")")) return;
  if (t->log.len > TXN_LOG_MAX) stralloc_cats(&t->log, " ...");
}

static void txn_log(smtp_txn *t, smtp_conn const *cn, char const *id, uint64_t bytes, char const *outcome)
{
  char num[UINT64_FMT];
  stralloc_0(&t->log);
  num[uint64_fmt(num, bytes)] = 0;
  {
    char const *v[14] = { " ip=", cn->remoteip, cn->authuser ? " auth=" : "", cn->authuser ? cn->authuser : "",
      " from=<", t->m.a.s.s ? t->m.a.s.s : "", ">",
      t->log.s, " bytes=", num, " id=", id ? id : "-", " result=", outcome };
    smtp_log(v, 14);
  }
  t->log.len = 0;
}

void smtp_txn_reset(smtp_txn *t, smtp_conn const *cn, char const *outcome)
{
  txn_log(t, cn, 0, 0, outcome);
  t->envelope.len = 0;
  t->nrcpt = 0;
}

int smtp_txn_mail(smtp_txn *t, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c)
{
  smtp_conf const *conf = cn->conf;
  char const *e = smtp_parse_mailrcpt(&t->m, c->arg, c->arglen, 0);
  if (e) { smtp_io_reply(io, e); return SMTP_R_ERROR; }
  if (t->m.a.flags & ADDR_NODOMAIN) { smtp_io_reply(io, "553 5.1.7 Sender address needs a domain: use user@domain"); return SMTP_R_ERROR; }
  if (conf->databytes && t->m.has_size && t->m.size > conf->databytes)
  {
    char num[UINT_FMT];
    num[uint_fmt(num, conf->databytes)] = 0;
    char const *v[3] = { "552 5.3.4 Message too big: this server accepts at most ", num, " bytes" };
    smtp_io_replyv(io, v, 3);
    return SMTP_R_ERROR;
  }
  t->envelope.len = 0;
  t->log.len = 0;
  if (!envelope_add_sender(&t->envelope, t->m.a.s.s) || !envelope_add_mparams(&t->envelope, t->m.dsn)) { smtp_io_reply(io, "451 4.3.0 Out of memory"); return 0; }
  t->declared = t->m.size;
  t->nrcpt = 0;
  smtp_io_reply(io, "250 2.1.0 Sender ok");
  return SMTP_R_DONE;
}

/* A refused recipient: the tarpit's wait, the reply (a client error), and
 * the recipient on the log line (addr 0: unknown), with the wait when
 * there was one. */
static int refuse_rcpt(smtp_txn *t, smtp_io *io, smtp_conn const *cn, char const *reply, char const *addr, char const *why)
{
  stralloc sa = STRALLOC_ZERO;
  unsigned int d = smtp_tarpit_wait(io, cn, &t->refused, reply);
  smtp_io_reply(io, reply);
  if (d)
  {
    char num[UINT_FMT];
    num[uint_fmt(num, d)] = 0;
    if (stralloc_cats(&sa, why) && stralloc_cats(&sa, "; tarpit ") && stralloc_cats(&sa, num)
     && stralloc_cats(&sa, " s") && stralloc_0(&sa)) why = sa.s;
  }
  logrcpt(t, addr, why);
  stralloc_free(&sa);
  return SMTP_R_ERROR;
}

/* After the phase check: the decision on one recipient. */
static int rcpt(smtp_txn *t, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c, smtp_mailargs *r)
{
  rcpt_ctx ctx = { .relay = cn->relay, .relayclient = cn->relayclient, .authuser = cn->authuser, .me = cn->conf->me.s };
  rcpt_verdict v;
  char const *e;
  if (t->nrcpt >= cn->conf->maxrcpt)
  {
    smtp_io_reply(io, "452 4.5.3 Too many recipients for one message; send the rest in another message");
    logrcpt(t, 0, "refused (too many recipients)");
    return 0;
  }
  e = smtp_parse_mailrcpt(r, c->arg, c->arglen, 1);
  if (e) return refuse_rcpt(t, io, cn, e, 0, "refused (syntax)");
  if ((e = smtp_bad_check(cn->bad, t->m.a.flags & ADDR_NULL ? 0 : t->m.a.s.s, r->a.s.s, &v.reason)))
    return refuse_rcpt(t, io, cn, e, r->a.s.s, v.reason);
  if (!rcpt_check(&ctx, &r->a, &v)) return refuse_rcpt(t, io, cn, v.reply, r->a.s.s, v.reason);
  if (r->a.s.len > ENVELOPE_ADDR_MAX) return refuse_rcpt(t, io, cn, "553 5.1.3 Recipient address too long", 0, "refused (too long)");
  if (!envelope_add_rcpt(&t->envelope, r->a.s.s) || !envelope_add_rparams(&t->envelope, r->dsn)) { smtp_io_reply(io, "451 4.3.0 Out of memory"); return 0; }
  t->nrcpt++;
  smtp_io_reply(io, v.reply);
  logrcpt(t, r->a.s.s, "ok");
  return SMTP_R_DONE;
}

int smtp_txn_rcpt(smtp_txn *t, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c)
{
  smtp_mailargs r = SMTP_MAILARGS_ZERO;
  int ret = rcpt(t, io, cn, c, &r);
  addr_free(&r.a);
  return ret;
}

/* Printable, no blanks, bounded: what a HELO name may put in a header. */
static void cat_clean(stralloc *sa, char const *x, size_t max)
{
  size_t i;
  for (i = 0; x[i] && i < max; i++)
  {
    char c = (x[i] > 32 && x[i] < 127 && x[i] != '(' && x[i] != ')') ? x[i] : '?';
    stralloc_catb(sa, &c, 1);
  }
}

static char const *protocol(smtp_conn const *cn)
{
  if (!cn->esmtp) return "SMTP";
  if (cn->tls) return cn->authuser ? "ESMTPSA" : "ESMTPS";
  return cn->authuser ? "ESMTPA" : "ESMTP";
}

/* " (TLSv1.2 CIPHER; authenticated as USER)", or as much of it as applies. */
static void comment(smtp_conn const *cn, stralloc *h)
{
  int tls = cn->tls && cn->tlsinfo;
  if (!tls && !cn->authuser) return;
  stralloc_cats(h, " (");
  if (tls) stralloc_cats(h, cn->tlsinfo);
  if (tls && cn->authuser) stralloc_cats(h, "; ");
  if (cn->authuser) { stralloc_cats(h, "authenticated as "); stralloc_cats(h, cn->authuser); }
  stralloc_cats(h, ")");
}

static int received(smtp_conn const *cn, stralloc *h, char const *id)
{
  char date[64];
  time_t now = time(0);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  h->len = 0;
  stralloc_cats(h, "Received: from ");
  cat_clean(h, cn->helo, 255);
  stralloc_cats(h, " (");
  if (cn->remotehost && *cn->remotehost) { cat_clean(h, cn->remotehost, 255); stralloc_cats(h, " "); }
  stralloc_cats(h, "[");
  cat_clean(h, cn->remoteip, 64);
  stralloc_cats(h, "])\n\tby ");
  stralloc_cats(h, cn->conf->me.s);
  stralloc_cats(h, " (tern) with ");
  stralloc_cats(h, protocol(cn));
  comment(cn, h);
  stralloc_cats(h, " id ");
  stralloc_cats(h, id);
  stralloc_cats(h, ";\n\t");
  return stralloc_cats(h, date) && stralloc_cats(h, "\n");
}

static char const *data_error(smtp_data const *d)
{
  switch (d->err)
  {
    case DATA_EBARELF: return "554 5.5.2 Message refused: bare LF in the data; lines must end with CRLF";
    case DATA_EBARECR: return "554 5.5.2 Message refused: bare CR in the data; lines must end with CRLF";
    case DATA_ESIZE: return "552 5.3.4 Message too big for this server";
    case DATA_EHOPS: return "554 5.4.6 Too many Received headers: probable mail loop";
    case DATA_ENUL: return "554 5.6.0 Message refused: NUL character in the data";
    case DATA_ENOMEM: return "451 4.3.0 Out of memory; try again later";
    default: return "451 4.3.0 Internal error";
  }
}

/* Reads the data into the queue program. 1 at the end of data, 0 when the
 * client went away, -1 on timeout (the message is abandoned). */
static int pump(smtp_io *io, smtp_data *d, smtp_queue *q)
{
  char out[8192];
  size_t n = 0;
  int end = 0;
  /* each line must arrive within the timeout: a client dripping a byte at
   * a time cannot hold its slot */
  smtp_io_line_start(io);
  while (!end)
  {
    char const *in;
    size_t len, i;
    int r = smtp_io_peek(io, &in, &len);
    if (r <= 0) { smtp_io_line_end(io); return r < 0 && !io->failed ? -1 : 0; }
    for (i = 0; i < len && !end; i++)
    {
      int f = smtp_data_feed(d, in[i], out + n);
      if (f == DATA_OUT && ++n == sizeof out) { smtp_queue_put(q, out, n); n = 0; }
      end = f == DATA_END;
    }
    if (memchr(in, '\n', i)) smtp_io_line_start(io);
    smtp_io_skip(io, i);
  }
  smtp_io_line_end(io);
  if (n) smtp_queue_put(q, out, n);
  return 1;
}

/* After the final dot, before the commit: what refuses the message, and
 * *quit set when the session must end after it. */
static char const *verdict(smtp_txn const *t, smtp_io *io, smtp_conn const *cn, smtp_data *d, stralloc *sa, int *quit)
{
  char const *reply;
  /* bare line ends: the framing is in doubt, so nothing more is read */
  if (d->err == DATA_EBARELF || d->err == DATA_EBARECR) { *quit = 1; return data_error(d); }
  /* commands sent before the reply: refused and closed whatever the text */
  reply = smtp_guard_pipelining(io, cn, "end of data");
  if (reply) { *quit = 1; return reply; }
  return d->err ? data_error(d) : smtp_guard_loop(cn->relay, &t->envelope, &d->hdr, sa);
}

/* Runs the DATA phase; the transaction is over after it. Returns
 * SMTP_R_QUIT when the session must end. */
static int data_phase(smtp_txn *t, smtp_io *io, smtp_conn const *cn, char const *id, smtp_data *d, smtp_queue *q)
{
  stralloc h = STRALLOC_ZERO;
  char const *reply;
  int code, r, quit = 0;
  smtp_io_reply(io, "354 Send the message; end with <CRLF>.<CRLF>");
  if (received(cn, &h, id)) smtp_queue_put(q, h.s, h.len);
  r = pump(io, d, q);
  if (r <= 0)
  {
    smtp_queue_abort(q);
    if (r < 0) smtp_io_reply(io, "421 4.4.2 Timeout during DATA; closing connection");
    txn_log(t, cn, 0, d->bytes, r < 0 ? "timeout during DATA" : "connection lost during DATA");
    quit = 1;
  }
  else if ((reply = verdict(t, io, cn, d, &h, &quit)))
  {
    /* refused before the commit */
    smtp_queue_abort(q);
    smtp_io_reply(io, reply);
    txn_log(t, cn, 0, d->bytes, reply);
  }
  else
  {
    code = envelope_finish(&t->envelope) ? smtp_queue_finish(q, &t->envelope) : QEXIT_NOMEM;
    reply = qexit_reply(code);
    if (!code)
    {
      char const *v[3] = { reply, " as ", id };
      smtp_io_replyv(io, v, 3);
    }
    else smtp_io_reply(io, reply);
    txn_log(t, cn, code ? 0 : id, d->bytes, reply);
  }
  stralloc_free(&h);
  return quit ? SMTP_R_QUIT : 0;
}

int smtp_txn_data(smtp_txn *t, smtp_io *io, smtp_conn const *cn)
{
  char id[QUEUEID_LEN + 1];
  smtp_queue q;
  smtp_data d;
  int ret = 0;
  char const *reply = smtp_guard_pipelining(io, cn, "DATA");
  if (reply)
  {
    smtp_io_reply(io, reply);
    txn_log(t, cn, 0, 0, reply);
    ret = SMTP_R_QUIT;
  }
  else
  {
    queueid_new(id);
    if (!smtp_queue_start(&q, cn->queuesock, cn->queueprog, id, cn->authuser, cn->conf->timeout))
    {
      smtp_io_reply(io, "451 4.3.0 Unable to start the queue program; try again later");
      txn_log(t, cn, 0, 0, "queue program did not start");
    }
    else
    {
      smtp_data_init(&d, cn->conf->databytes, cn->conf->maxhops);
      ret = data_phase(t, io, cn, id, &d, &q);
      smtp_data_free(&d);
    }
  }
  t->envelope.len = 0;
  t->nrcpt = 0;
  return ret;
}
