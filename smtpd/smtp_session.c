/* smtp_session.c: tern-smtpd's state machine and verbs (smtp_session.h). */
#include <string.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "smtp_auth.h"
#include "smtp_session.h"
#include "smtp_tarpit.h"

void smtp_session_init(smtp_session *s, smtp_conf const *c, relay const *r, char const *queueprog)
{
  memset(s, 0, sizeof *s);
  s->conf = c;
  s->relay = r;
  s->queueprog = queueprog;
  s->remoteip = "unknown";
  s->state = SMTP_ST_START;
  smtp_io_init(&s->io, 0, 1, c->timeout);
}

void smtp_session_free(smtp_session *s)
{
  stralloc_free(&s->helo);
  stralloc_free(&s->line);
  stralloc_free(&s->envelope);
  stralloc_free(&s->log);
  addr_free(&s->m.a);
}

static void reply2(smtp_session *s, char const *a, char const *b)
{
  char const *v[2] = { a, b };
  smtp_io_replyv(&s->io, v, 2);
}

void smtp_session_error(smtp_session *s, char const *reply)
{
  smtp_io_reply(&s->io, reply);
  s->errors++;
}

unsigned int smtp_ehlo_keywords(smtp_session *s, char const **kw, unsigned int max, char *sizebuf)
{
  unsigned int n = 0;
  memcpy(sizebuf, "SIZE ", 5);
  sizebuf[5 + uint_fmt(sizebuf + 5, s->conf->databytes)] = 0;
  if (n < max) kw[n++] = "PIPELINING";
  if (n < max) kw[n++] = sizebuf;
  if (n < max) kw[n++] = "8BITMIME";
  if (n < max) kw[n++] = "ENHANCEDSTATUSCODES";
  if (n < max) kw[n++] = "DSN";
  return smtp_auth_keywords(s, kw, n, max);
}

static void do_helo(smtp_session *s, smtp_cmd const *c, int esmtp)
{
  char const *kw[16];
  char sizebuf[5 + UINT_FMT];
  unsigned int n, i;
  if (!c->arglen) { smtp_session_error(s, "501 5.5.4 Syntax: HELO or EHLO needs your host name"); return; }
  if (s->state >= SMTP_ST_MAIL) smtp_txn_reset(s, "reset by HELO");
  s->helo.len = 0;
  if (!stralloc_catb(&s->helo, c->arg, c->arglen) || !stralloc_0(&s->helo))
  { smtp_io_reply(&s->io, "421 4.3.0 Out of memory"); s->quit = 1; return; }
  s->esmtp = esmtp;
  s->state = SMTP_ST_HELO;
  if (!esmtp) { reply2(s, "250 ", s->conf->me.s); return; }
  n = smtp_ehlo_keywords(s, kw, 16, sizebuf);
  reply2(s, "250-", s->conf->me.s);
  for (i = 0; i < n; i++) reply2(s, i + 1 < n ? "250-" : "250 ", kw[i]);
}

static void do_mail(smtp_session *s, smtp_cmd const *c)
{
  char const *e;
  if (s->state == SMTP_ST_START) { smtp_session_error(s, "503 5.5.1 Send HELO or EHLO first"); return; }
  if (s->state >= SMTP_ST_MAIL) { smtp_session_error(s, "503 5.5.1 Sender already given; send RSET to start over"); return; }
  if (!smtp_auth_mail_ok(s)) return;
  e = smtp_parse_mailrcpt(&s->m, c->arg, c->arglen, 0);
  if (e) { smtp_session_error(s, e); return; }
  if (s->m.a.flags & ADDR_NODOMAIN) { smtp_session_error(s, "553 5.1.7 Sender address needs a domain: use user@domain"); return; }
  if (s->conf->databytes && s->m.has_size && s->m.size > s->conf->databytes)
  {
    char num[UINT_FMT];
    num[uint_fmt(num, s->conf->databytes)] = 0;
    char const *v[3] = { "552 5.3.4 Message too big: this server accepts at most ", num, " bytes" };
    smtp_io_replyv(&s->io, v, 3);
    s->errors++;
    return;
  }
  s->envelope.len = 0;
  s->log.len = 0;
  if (!envelope_add_sender(&s->envelope, s->m.a.s.s) || !envelope_add_mparams(&s->envelope, s->m.dsn)) { smtp_io_reply(&s->io, "451 4.3.0 Out of memory"); return; }
  s->declared = s->m.size;
  s->nrcpt = 0;
  s->state = SMTP_ST_MAIL;
  smtp_io_reply(&s->io, "250 2.1.0 Sender ok");
}

static void do_rcpt(smtp_session *s, smtp_cmd const *c)
{
  smtp_mailargs r = SMTP_MAILARGS_ZERO;
  rcpt_ctx ctx = { .relay = s->relay, .relayclient = s->relayclient, .authuser = s->authuser, .me = s->conf->me.s };
  rcpt_verdict v;
  char const *e;
  if (s->state < SMTP_ST_MAIL) { smtp_session_error(s, "503 5.5.1 Send MAIL first"); return; }
  if (s->nrcpt >= s->conf->maxrcpt)
  {
    smtp_io_reply(&s->io, "452 4.5.3 Too many recipients for one message; send the rest in another message");
    smtp_txn_logrcpt(s, 0, "refused (too many recipients)");
    goto end;
  }
  e = smtp_parse_mailrcpt(&r, c->arg, c->arglen, 1);
  if (e) { smtp_tarpit_refuse(s, e, 0, "refused (syntax)"); goto end; }
  if (!rcpt_check(&ctx, &r.a, &v)) { smtp_tarpit_refuse(s, v.reply, r.a.s.s, v.reason); goto end; }
  if (r.a.s.len > ENVELOPE_ADDR_MAX) { smtp_tarpit_refuse(s, "553 5.1.3 Recipient address too long", 0, "refused (too long)"); goto end; }
  if (!envelope_add_rcpt(&s->envelope, r.a.s.s) || !envelope_add_rparams(&s->envelope, r.dsn)) { smtp_io_reply(&s->io, "451 4.3.0 Out of memory"); goto end; }
  s->nrcpt++;
  s->state = SMTP_ST_RCPT;
  smtp_io_reply(&s->io, v.reply);
  smtp_txn_logrcpt(s, r.a.s.s, "ok");
 end:
  addr_free(&r.a);
}

static void do_data(smtp_session *s, smtp_cmd const *c)
{
  if (c->arglen) { smtp_session_error(s, "501 5.5.4 DATA takes no argument"); return; }
  if (s->state == SMTP_ST_MAIL) { smtp_session_error(s, "554 5.5.1 No valid recipients"); return; }
  if (s->state != SMTP_ST_RCPT) { smtp_session_error(s, "503 5.5.1 Send MAIL and RCPT first"); return; }
  smtp_txn_data(s);
}

static void do_simple(smtp_session *s, smtp_cmd const *c)
{
  switch (c->verb)
  {
    case SMTP_RSET:
      if (s->state >= SMTP_ST_MAIL) smtp_txn_reset(s, "reset by RSET");
      if (s->state > SMTP_ST_HELO) s->state = SMTP_ST_HELO;
      smtp_io_reply(&s->io, "250 2.0.0 Ok");
      break;
    case SMTP_NOOP: smtp_io_reply(&s->io, "250 2.0.0 Ok"); break;
    case SMTP_QUIT:
      reply2(s, "221 2.0.0 Bye from ", s->conf->me.s);
      s->quit = 1;
      break;
    case SMTP_VRFY: smtp_io_reply(&s->io, "252 2.5.2 Cannot verify the user, but will accept mail for it and try delivery"); break;
    case SMTP_HELP: smtp_io_reply(&s->io, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT (RFC 5321)"); break;
    case SMTP_STARTTLS: smtp_starttls_command(s, c); break;
    case SMTP_AUTH: smtp_auth_command(s, c); break;
    case SMTP_UNKNOWN: smtp_session_error(s, "500 5.5.1 Command not recognized"); break;
    default: smtp_session_error(s, "502 5.5.1 Command not implemented"); break;
  }
}

void smtp_session_command(smtp_session *s, char const *line, size_t len)
{
  smtp_cmd c;
  smtp_cmd_parse(&c, line, len);
  switch (c.verb)
  {
    case SMTP_HELO: do_helo(s, &c, 0); break;
    case SMTP_EHLO: do_helo(s, &c, 1); break;
    case SMTP_MAIL: do_mail(s, &c); break;
    case SMTP_RCPT: do_rcpt(s, &c); break;
    case SMTP_DATA: do_data(s, &c); break;
    default: do_simple(s, &c); break;
  }
}

/* A line that cannot be a command. Returns 0 when the session must end. */
static int bad_line(smtp_session *s, int r)
{
  char num[UINT_FMT];
  switch (r)
  {
    case SMTP_LINE_TOOLONG:
    {
      char const *v[3] = { "500 5.5.2 Line too long: the limit is ", num, " bytes with CRLF" };
      num[uint_fmt(num, s->conf->maxcmdline)] = 0;
      smtp_io_replyv(&s->io, v, 3);
      s->errors++;
      return 1;
    }
    case SMTP_LINE_BARELF: smtp_session_error(s, "500 5.5.2 Command lines must end with CRLF; bare LF refused"); return 1;
    case SMTP_LINE_BARECR: smtp_session_error(s, "500 5.5.2 Bare CR in a command refused"); return 1;
    case SMTP_LINE_NUL: smtp_session_error(s, "500 5.5.2 NUL character in a command refused"); return 1;
    case SMTP_LINE_TIMEOUT: reply2(s, "421 4.4.2 Timeout; closing connection from ", s->conf->me.s); return 0;
    case SMTP_LINE_FLOOD: reply2(s, "421 4.7.0 Line without end; closing connection from ", s->conf->me.s); return 0;
    default: return 0;   /* EOF or read error: nobody to answer */
  }
}

void smtp_session_run(smtp_session *s)
{
  if (!smtp_greet_wait(s)) { smtp_io_flush(&s->io); return; }
  reply2(s, "220 ", s->conf->greeting.s);
  while (!s->quit && !s->io.failed)
  {
    int r = smtp_io_getline(&s->io, &s->line, s->conf->maxcmdline);
    if (r == SMTP_LINE_OK) smtp_session_command(s, s->line.s, s->line.len);
    else if (!bad_line(s, r)) break;
    if (!s->quit && s->errors >= s->conf->maxerrors)
    {
      reply2(s, "421 4.7.0 Too many errors; closing connection from ", s->conf->me.s);
      break;
    }
  }
  if (s->state >= SMTP_ST_MAIL) smtp_txn_reset(s, s->quit ? "reset by QUIT" : "connection ended");
  smtp_io_flush(&s->io);
}
