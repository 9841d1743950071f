/* smtp_session.c: tern-smtpd's state machine and the dispatch of the verbs
 * to the parts (smtp_session.h). */
#include <string.h>
#include <skalibs/types.h>
#include "smtp_greet.h"
#include "smtp_session.h"

void smtp_session_init(smtp_session *s, smtp_conf const *c, relay const *r, char const *queueprog)
{
  memset(s, 0, sizeof *s);
  s->conn.conf = c;
  s->conn.relay = r;
  s->conn.queueprog = queueprog;
  s->conn.remoteip = "unknown";
  s->conn.state = SMTP_ST_START;
  smtp_io_init(&s->io, 0, 1, c->timeout);
}

void smtp_session_parts(smtp_session *s, smtp_auth *a, smtp_tls *t)
{
  s->auth = a;
  s->tls = t;
  s->conn.tls = t && t->on;
  s->conn.tlsinfo = t && t->info.len ? t->info.s : 0;
}

void smtp_session_free(smtp_session *s)
{
  stralloc_free(&s->helo);
  stralloc_free(&s->line);
  smtp_txn_free(&s->txn);
}

static void reply2(smtp_session *s, char const *a, char const *b)
{
  char const *v[2] = { a, b };
  smtp_io_replyv(&s->io, v, 2);
}

/* A client error: the reply, counted towards maxerrors. */
static void error(smtp_session *s, char const *reply)
{
  smtp_io_reply(&s->io, reply);
  s->errors++;
}

/* The transaction ends without a message. */
static void txn_end(smtp_session *s, char const *outcome)
{
  smtp_txn_reset(&s->txn, &s->conn, outcome);
  if (s->conn.state > SMTP_ST_HELO) s->conn.state = SMTP_ST_HELO;
}

/* RFC 3207 section 4.2: after STARTTLS, forget everything the client said before. */
static void tls_on(smtp_session *s)
{
  s->conn.tls = 1;
  s->conn.tlsinfo = s->tls->info.s;
  if (s->conn.state >= SMTP_ST_MAIL) txn_end(s, "reset by STARTTLS");
  s->conn.state = SMTP_ST_START;
  s->conn.esmtp = 0;
  s->helo.len = 0;
  s->conn.authuser = 0;
}

/* What a part asked for (smtp_conn.h). */
static void apply(smtp_session *s, int r)
{
  if (r & SMTP_R_ERROR) s->errors++;
  if (r & SMTP_R_QUIT) s->quit = 1;
  if (r & SMTP_R_AUTH) s->conn.authuser = s->auth->user.s;
  if (r & SMTP_R_TLS) tls_on(s);
}

/* EHLO keywords after the greeting line: fills kw, returns how many. */
static unsigned int ehlo_keywords(smtp_session const *s, char const **kw, unsigned int max, char *sizebuf)
{
  unsigned int n = 0;
  char const *x;
  memcpy(sizebuf, "SIZE ", 5);
  sizebuf[5 + uint_fmt(sizebuf + 5, s->conn.conf->databytes)] = 0;
  if (n < max) kw[n++] = "PIPELINING";
  if (n < max) kw[n++] = sizebuf;
  if (n < max) kw[n++] = "8BITMIME";
  if (n < max) kw[n++] = "ENHANCEDSTATUSCODES";
  if (n < max) kw[n++] = "DSN";
  if ((x = smtp_tls_keyword(s->tls)) && n < max) kw[n++] = x;
  if ((x = smtp_auth_keyword(s->auth, s->conn.tls)) && n < max) kw[n++] = x;
  return n;
}

static void do_helo(smtp_session *s, smtp_cmd const *c, int esmtp)
{
  char const *kw[16];
  char sizebuf[5 + UINT_FMT];
  unsigned int n, i;
  if (!c->arglen) { error(s, "501 5.5.4 Syntax: HELO or EHLO needs your host name"); return; }
  if (s->conn.state >= SMTP_ST_MAIL) txn_end(s, "reset by HELO");
  s->helo.len = 0;
  if (!stralloc_catb(&s->helo, c->arg, c->arglen) || !stralloc_0(&s->helo))
  { smtp_io_reply(&s->io, "421 4.3.0 Out of memory"); s->quit = 1; return; }
  s->conn.helo = s->helo.s;
  s->conn.esmtp = esmtp;
  s->conn.state = SMTP_ST_HELO;
  if (!esmtp) { reply2(s, "250 ", s->conn.conf->me.s); return; }
  n = ehlo_keywords(s, kw, 16, sizebuf);
  reply2(s, "250-", s->conn.conf->me.s);
  for (i = 0; i < n; i++) reply2(s, i + 1 < n ? "250-" : "250 ", kw[i]);
}

static void do_mail(smtp_session *s, smtp_cmd const *c)
{
  int r;
  if (s->conn.state == SMTP_ST_START) { error(s, "503 5.5.1 Send HELO or EHLO first"); return; }
  if (s->conn.state >= SMTP_ST_MAIL) { error(s, "503 5.5.1 Sender already given; send RSET to start over"); return; }
  r = smtp_auth_mail(s->auth, &s->io, &s->conn);
  if (!r) r = smtp_txn_mail(&s->txn, &s->io, &s->conn, c);
  apply(s, r);
  if (r & SMTP_R_DONE) s->conn.state = SMTP_ST_MAIL;
}

static void do_rcpt(smtp_session *s, smtp_cmd const *c)
{
  int r;
  if (s->conn.state < SMTP_ST_MAIL) { error(s, "503 5.5.1 Send MAIL first"); return; }
  r = smtp_txn_rcpt(&s->txn, &s->io, &s->conn, c);
  apply(s, r);
  if (r & SMTP_R_DONE) s->conn.state = SMTP_ST_RCPT;
}

static void do_data(smtp_session *s, smtp_cmd const *c)
{
  if (c->arglen) { error(s, "501 5.5.4 DATA takes no argument"); return; }
  if (s->conn.state == SMTP_ST_MAIL) { error(s, "554 5.5.1 No valid recipients"); return; }
  if (s->conn.state != SMTP_ST_RCPT) { error(s, "503 5.5.1 Send MAIL and RCPT first"); return; }
  apply(s, smtp_txn_data(&s->txn, &s->io, &s->conn));
  s->conn.state = SMTP_ST_HELO;
}

static void do_simple(smtp_session *s, smtp_cmd const *c)
{
  switch (c->verb)
  {
    case SMTP_RSET:
      if (s->conn.state >= SMTP_ST_MAIL) txn_end(s, "reset by RSET");
      if (s->conn.state > SMTP_ST_HELO) s->conn.state = SMTP_ST_HELO;
      smtp_io_reply(&s->io, "250 2.0.0 Ok");
      break;
    case SMTP_NOOP: smtp_io_reply(&s->io, "250 2.0.0 Ok"); break;
    case SMTP_QUIT:
      reply2(s, "221 2.0.0 Bye from ", s->conn.conf->me.s);
      s->quit = 1;
      break;
    case SMTP_VRFY: smtp_io_reply(&s->io, "252 2.5.2 Cannot verify the user, but will accept mail for it and try delivery"); break;
    case SMTP_HELP: smtp_io_reply(&s->io, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT (RFC 5321)"); break;
    case SMTP_STARTTLS: apply(s, smtp_starttls_command(s->tls, &s->io, &s->conn, c)); break;
    case SMTP_AUTH: apply(s, smtp_auth_command(s->auth, &s->io, &s->conn, c)); break;
    case SMTP_UNKNOWN: error(s, "500 5.5.1 Command not recognized"); break;
    default: error(s, "502 5.5.1 Command not implemented"); break;
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
      num[uint_fmt(num, s->conn.conf->maxcmdline)] = 0;
      smtp_io_replyv(&s->io, v, 3);
      s->errors++;
      return 1;
    }
    case SMTP_LINE_BARELF: error(s, "500 5.5.2 Command lines must end with CRLF; bare LF refused"); return 1;
    case SMTP_LINE_BARECR: error(s, "500 5.5.2 Bare CR in a command refused"); return 1;
    case SMTP_LINE_NUL: error(s, "500 5.5.2 NUL character in a command refused"); return 1;
    case SMTP_LINE_TIMEOUT: reply2(s, "421 4.4.2 Timeout; closing connection from ", s->conn.conf->me.s); return 0;
    case SMTP_LINE_FLOOD: reply2(s, "421 4.7.0 Line without end; closing connection from ", s->conn.conf->me.s); return 0;
    default: return 0;   /* EOF or read error: nobody to answer */
  }
}

void smtp_session_run(smtp_session *s)
{
  smtp_conf const *conf = s->conn.conf;
  if (!smtp_greet_wait(&s->io, &s->conn)) { smtp_io_flush(&s->io); return; }
  reply2(s, "220 ", conf->greeting.s);
  while (!s->quit && !s->io.failed)
  {
    int r = smtp_io_getline(&s->io, &s->line, conf->maxcmdline);
    if (r == SMTP_LINE_OK) smtp_session_command(s, s->line.s, s->line.len);
    else if (!bad_line(s, r)) break;
    if (!s->quit && s->errors >= conf->maxerrors)
    {
      reply2(s, "421 4.7.0 Too many errors; closing connection from ", conf->me.s);
      break;
    }
  }
  if (s->conn.state >= SMTP_ST_MAIL) txn_end(s, s->quit ? "reset by QUIT" : "connection ended");
  smtp_io_flush(&s->io);
}
