/* smtp_starttls.c: tern-smtpd's STARTTLS (RFC 3207) over UCSPI-TLS (smtp_starttls.h). */
#include <stdlib.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "ucspitls.h"
#include "smtp_log.h"
#include "smtp_starttls.h"

static int set_info(smtp_tls *t)
{
  char const *p = getenv("SSL_PROTOCOL"), *c = getenv("SSL_CIPHER");
  t->info.len = 0;
  return stralloc_cats(&t->info, p ? p : "TLS") && stralloc_cats(&t->info, " ")
      && stralloc_cats(&t->info, c ? c : "unknown-cipher") && stralloc_0(&t->info);
}

int smtp_tls_init(smtp_tls *t)
{
  /* a pooled worker's previous session leaves nothing behind */
  t->starttls = 0;
  t->info.len = 0;
  t->u.ctl = t->u.rfd = t->u.wfd = -1;
  t->ucspi = 0;
  /* tern-tlsd -i: TLS since the first byte. */
  t->on = !!getenv("SSL_PROTOCOL");
  if (t->on) return set_info(t);
  t->starttls = t->ucspi = ucspitls_available(&t->u);
  if (!t->ucspi) t->u.ctl = t->u.rfd = t->u.wfd = -1;
  /* The queue and checkpassword programs have no business with them. */
  if (t->starttls && (coe(t->u.ctl) < 0 || coe(t->u.rfd) < 0 || coe(t->u.wfd) < 0)) t->starttls = 0;
  return 1;
}

void smtp_tls_end(smtp_tls *t)
{
  if (t->ucspi) ucspitls_close(&t->u);
  t->ucspi = t->starttls = 0;
}

char const *smtp_tls_keyword(smtp_tls const *t)
{
  return t && t->starttls && !t->on ? "STARTTLS" : 0;
}

int smtp_starttls_command(smtp_tls *t, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c)
{
  stralloc info = STRALLOC_ZERO;
  tain deadline;
  size_t pending;
  if (cn->tls) { smtp_io_reply(io, "503 5.5.1 TLS is already on"); return SMTP_R_ERROR; }
  if (!t || !t->starttls) { smtp_io_reply(io, "502 5.5.1 STARTTLS is not available on this port"); return SMTP_R_ERROR; }
  if (c->arglen) { smtp_io_reply(io, "501 5.5.4 Syntax: STARTTLS takes no argument"); return SMTP_R_ERROR; }
  smtp_io_reply(io, "220 2.0.0 Ready to start TLS");
  if (!smtp_io_flush(io)) return SMTP_R_QUIT;
  /* CVE-2011-0411: what the client pipelined after STARTTLS was sent in
   * clear and may be an attacker's; it is dropped, never answered. */
  pending = smtp_io_pending(io);
  if (pending)
  {
    char num[SIZE_FMT];
    num[size_fmt(num, pending)] = 0;
    char const *v[5] = { " ip=", cn->remoteip, " starttls: dropped ", num, " bytes sent in clear after STARTTLS" };
    smtp_log(v, 5);
    smtp_io_discard(io);
  }
  tain_now_g();
  tain_addsec_g(&deadline, cn->conf->timeout);
  if (!ucspitls_start(&t->u, &info, &deadline) || !ucspitls_onto01(&t->u) || !set_info(t))
  {
    char const *v[3] = { " ip=", cn->remoteip, " starttls: TLS could not start (see tern-tlsd's line)" };
    smtp_log(v, 3);
    /* The client is not speaking plaintext any more: no reply. */
    io->failed = 1;
    return SMTP_R_QUIT;
  }
  stralloc_free(&info);
  smtp_io_setfds(io, 0, 1);
  t->on = 1;
  t->starttls = 0;
  return SMTP_R_TLS;
}
