/* smtp_starttls.c: tern-smtpd's STARTTLS (RFC 3207) over UCSPI-TLS, the EHLO keywords and the Received comment. */
#include <stdlib.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "ucspitls.h"
#include "smtp_auth.h"

static int set_tlsinfo(smtp_auth *a)
{
  char const *p = getenv("SSL_PROTOCOL"), *c = getenv("SSL_CIPHER");
  a->tlsinfo.len = 0;
  return stralloc_cats(&a->tlsinfo, p ? p : "TLS") && stralloc_cats(&a->tlsinfo, " ")
      && stralloc_cats(&a->tlsinfo, c ? c : "unknown-cipher") && stralloc_0(&a->tlsinfo);
}

int smtp_auth_init(smtp_auth *a, smtp_session *s)
{
  /* a pooled worker's previous session leaves nothing behind */
  a->starttls = 0;
  a->failures = 0;
  a->user.len = 0;
  a->tlsinfo.len = 0;
  a->u.ctl = a->u.rfd = a->u.wfd = -1;
  a->ucspi = 0;
  s->auth = a;
  /* tern-tlsd -i: TLS since the first byte. */
  s->tls = !!getenv("SSL_PROTOCOL");
  if (s->tls) return set_tlsinfo(a);
  a->starttls = a->ucspi = ucspitls_available(&a->u);
  if (!a->ucspi) a->u.ctl = a->u.rfd = a->u.wfd = -1;
  /* The queue and checkpassword programs have no business with them. */
  if (a->starttls && (coe(a->u.ctl) < 0 || coe(a->u.rfd) < 0 || coe(a->u.wfd) < 0)) a->starttls = 0;
  return 1;
}

void smtp_auth_end(smtp_auth *a)
{
  if (a->ucspi) ucspitls_close(&a->u);
  a->ucspi = a->starttls = 0;
}

unsigned int smtp_auth_keywords(smtp_session const *s, char const **kw, unsigned int n, unsigned int max)
{
  smtp_auth const *a = s->auth;
  if (!a) return n;
  if (a->starttls && !s->tls && n < max) kw[n++] = "STARTTLS";
  /* Mechanisms only where they may be used (RFC 4954 section 4). */
  if (a->checkprog && (s->tls || a->plaintext) && n < max) kw[n++] = "AUTH PLAIN LOGIN";
  return n;
}

/* RFC 3207 section 4.2: forget everything the client said before. */
static void forget(smtp_session *s)
{
  if (s->state >= SMTP_ST_MAIL) smtp_txn_reset(s, "reset by STARTTLS");
  s->state = SMTP_ST_START;
  s->esmtp = 0;
  s->helo.len = 0;
  s->authuser = 0;
}

void smtp_starttls_command(smtp_session *s, smtp_cmd const *c)
{
  smtp_auth *a = s->auth;
  stralloc info = STRALLOC_ZERO;
  tain deadline;
  size_t pending;
  if (s->tls) { smtp_session_error(s, "503 5.5.1 TLS is already on"); return; }
  if (!a || !a->starttls) { smtp_session_error(s, "502 5.5.1 STARTTLS is not available on this port"); return; }
  if (c->arglen) { smtp_session_error(s, "501 5.5.4 Syntax: STARTTLS takes no argument"); return; }
  smtp_io_reply(&s->io, "220 2.0.0 Ready to start TLS");
  if (!smtp_io_flush(&s->io)) { s->quit = 1; return; }
  /* CVE-2011-0411: what the client pipelined after STARTTLS was sent in
   * clear and may be an attacker's; it is dropped, never answered. */
  pending = smtp_io_pending(&s->io);
  if (pending)
  {
    char num[SIZE_FMT];
    num[size_fmt(num, pending)] = 0;
    char const *v[5] = { " ip=", s->remoteip, " starttls: dropped ", num, " bytes sent in clear after STARTTLS" };
    smtp_log(v, 5);
    smtp_io_discard(&s->io);
  }
  tain_now_g();
  tain_addsec_g(&deadline, s->conf->timeout);
  if (!ucspitls_start(&a->u, &info, &deadline) || !ucspitls_onto01(&a->u) || !set_tlsinfo(a))
  {
    char const *v[3] = { " ip=", s->remoteip, " starttls: TLS could not start (see tern-tlsd's line)" };
    smtp_log(v, 3);
    /* The client is not speaking plaintext any more: no reply. */
    s->io.failed = 1;
    s->quit = 1;
    return;
  }
  stralloc_free(&info);
  smtp_io_setfds(&s->io, 0, 1);
  s->tls = 1;
  a->starttls = 0;
  forget(s);
}

void smtp_auth_received(smtp_session const *s, stralloc *h)
{
  smtp_auth const *a = s->auth;
  int tls = s->tls && a && a->tlsinfo.len;
  if (!tls && !s->authuser) return;
  stralloc_cats(h, " (");
  if (tls) stralloc_cats(h, a->tlsinfo.s);
  if (tls && s->authuser) stralloc_cats(h, "; ");
  if (s->authuser) { stralloc_cats(h, "authenticated as "); stralloc_cats(h, s->authuser); }
  stralloc_cats(h, ")");
}
