/* smtp_txn.c: one mail transaction of tern-smtpd: the DATA phase (into the
 * queue program), the Received header, and the one log line. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "qexit.h"
#include "queueid.h"
#include "smtp_data.h"
#include "smtp_guard.h"
#include "smtp_queue.h"
#include "smtp_session.h"
#include "smtp_auth.h"

/* The log keeps the first recipients; a flood of refusals cannot grow it. */
#define TXN_LOG_MAX 4096

void smtp_log(char const *const *parts, unsigned int n)
{
  stralloc sa = STRALLOC_ZERO;
  unsigned int i;
  int ok = stralloc_cats(&sa, "tern-smtpd: info:");
  for (i = 0; ok && i < n; i++) ok = stralloc_cats(&sa, parts[i]);
  if (ok && stralloc_catb(&sa, "\n", 1)) allwrite(2, sa.s, sa.len);
  stralloc_free(&sa);
}

void smtp_txn_logrcpt(smtp_session *s, char const *a, char const *what)
{
  if (s->log.len > TXN_LOG_MAX) return;
  if (!stralloc_cats(&s->log, " to=<") || !stralloc_cats(&s->log, a ? a : "?")
   || !stralloc_cats(&s->log, "> (") || !stralloc_cats(&s->log, what) || !stralloc_cats(&s->log, ")")) return;
  if (s->log.len > TXN_LOG_MAX) stralloc_cats(&s->log, " ...");
}

static void txn_log(smtp_session *s, char const *id, uint64_t bytes, char const *outcome)
{
  char num[UINT64_FMT];
  stralloc_0(&s->log);
  num[uint64_fmt(num, bytes)] = 0;
  {
    char const *v[14] = { " ip=", s->remoteip, s->authuser ? " auth=" : "", s->authuser ? s->authuser : "",
      " from=<", s->m.a.s.s ? s->m.a.s.s : "", ">",
      s->log.s, " bytes=", num, " id=", id ? id : "-", " result=", outcome };
    smtp_log(v, 14);
  }
  s->log.len = 0;
}

void smtp_txn_reset(smtp_session *s, char const *outcome)
{
  txn_log(s, 0, 0, outcome);
  s->envelope.len = 0;
  s->nrcpt = 0;
  if (s->state > SMTP_ST_HELO) s->state = SMTP_ST_HELO;
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

static char const *protocol(smtp_session const *s)
{
  if (!s->esmtp) return "SMTP";
  if (s->tls) return s->authuser ? "ESMTPSA" : "ESMTPS";
  return s->authuser ? "ESMTPA" : "ESMTP";
}

static int received(smtp_session const *s, stralloc *h, char const *id)
{
  char date[64];
  time_t now = time(0);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  h->len = 0;
  stralloc_cats(h, "Received: from ");
  cat_clean(h, s->helo.s, 255);
  stralloc_cats(h, " (");
  if (s->remotehost && *s->remotehost) { cat_clean(h, s->remotehost, 255); stralloc_cats(h, " "); }
  stralloc_cats(h, "[");
  cat_clean(h, s->remoteip, 64);
  stralloc_cats(h, "])\n\tby ");
  stralloc_cats(h, s->conf->me.s);
  stralloc_cats(h, " (tern) with ");
  stralloc_cats(h, protocol(s));
  smtp_auth_received(s, h);
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
static int pump(smtp_session *s, smtp_data *d, smtp_queue *q)
{
  char out[8192];
  size_t n = 0;
  int end = 0;
  /* each line must arrive within the timeout: a client dripping a byte at
   * a time cannot hold its slot */
  smtp_io_line_start(&s->io);
  while (!end)
  {
    char const *in;
    size_t len, i;
    int r = smtp_io_peek(&s->io, &in, &len);
    if (r <= 0) { smtp_io_line_end(&s->io); return r < 0 && !s->io.failed ? -1 : 0; }
    for (i = 0; i < len && !end; i++)
    {
      int f = smtp_data_feed(d, in[i], out + n);
      if (f == DATA_OUT && ++n == sizeof out) { smtp_queue_put(q, out, n); n = 0; }
      end = f == DATA_END;
    }
    if (memchr(in, '\n', i)) smtp_io_line_start(&s->io);
    smtp_io_skip(&s->io, i);
  }
  smtp_io_line_end(&s->io);
  if (n) smtp_queue_put(q, out, n);
  return 1;
}

/* Refuses the message before it is committed; the session may end. */
static void refuse(smtp_session *s, smtp_queue *q, uint64_t bytes, char const *reply)
{
  smtp_queue_abort(q);
  smtp_io_reply(&s->io, reply);
  txn_log(s, 0, bytes, reply);
}

/* After the final dot, before the commit: what refuses the message. */
static char const *verdict(smtp_session *s, smtp_data *d, stralloc *sa)
{
  char const *reply;
  /* bare line ends: the framing is in doubt, so nothing more is read */
  if (d->err == DATA_EBARELF || d->err == DATA_EBARECR) { s->quit = 1; return data_error(d); }
  /* commands sent before the reply: refused and closed whatever the text */
  reply = smtp_guard_pipelining(s, "end of data");
  if (reply) return reply;
  return d->err ? data_error(d) : smtp_guard_loop(s, &d->hdr, sa);
}

/* Runs the DATA phase; the state is back to HELO after it. */
static void data_phase(smtp_session *s, char const *id, smtp_data *d, smtp_queue *q)
{
  stralloc h = STRALLOC_ZERO;
  char const *reply;
  int code, r;
  smtp_io_reply(&s->io, "354 Send the message; end with <CRLF>.<CRLF>");
  if (received(s, &h, id)) smtp_queue_put(q, h.s, h.len);
  r = pump(s, d, q);
  if (r <= 0)
  {
    smtp_queue_abort(q);
    if (r < 0) smtp_io_reply(&s->io, "421 4.4.2 Timeout during DATA; closing connection");
    txn_log(s, 0, d->bytes, r < 0 ? "timeout during DATA" : "connection lost during DATA");
    s->quit = 1;
  }
  else if ((reply = verdict(s, d, &h))) refuse(s, q, d->bytes, reply);
  else
  {
    code = envelope_finish(&s->envelope) ? smtp_queue_finish(q, &s->envelope) : QEXIT_NOMEM;
    reply = qexit_reply(code);
    if (!code)
    {
      char const *v[3] = { reply, " as ", id };
      smtp_io_replyv(&s->io, v, 3);
    }
    else smtp_io_reply(&s->io, reply);
    txn_log(s, code ? 0 : id, d->bytes, reply);
  }
  stralloc_free(&h);
}

void smtp_txn_data(smtp_session *s)
{
  char id[QUEUEID_LEN + 1];
  smtp_queue q;
  smtp_data d;
  char const *reply = smtp_guard_pipelining(s, "DATA");
  if (reply)
  {
    smtp_io_reply(&s->io, reply);
    txn_log(s, 0, 0, reply);
  }
  else
  {
    queueid_new(id);
    if (!smtp_queue_start(&q, s->queuesock, s->queueprog, id, s->authuser, s->conf->timeout))
    {
      smtp_io_reply(&s->io, "451 4.3.0 Unable to start the queue program; try again later");
      txn_log(s, 0, 0, "queue program did not start");
    }
    else
    {
      smtp_data_init(&d, s->conf->databytes, s->conf->maxhops);
      data_phase(s, id, &d, &q);
      smtp_data_free(&d);
    }
  }
  s->envelope.len = 0;
  s->nrcpt = 0;
  s->state = SMTP_ST_HELO;
}
