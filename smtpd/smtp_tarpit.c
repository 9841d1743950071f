/* smtp_tarpit.c: the growing wait before refusals of recipients (smtp_tarpit.h). */
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "smtp_tarpit.h"

unsigned int smtp_tarpit_delay(smtp_conf const *c, unsigned int refused)
{
  unsigned int past, d;
  if (!c->tarpitcount || !c->tarpitdelay || refused <= c->tarpitcount) return 0;
  past = refused - c->tarpitcount;
  /* linear growth; the division keeps the product from overflowing */
  d = past > c->tarpitmaxdelay / c->tarpitdelay ? c->tarpitmaxdelay : past * c->tarpitdelay;
  if (d > c->tarpitmaxdelay) d = c->tarpitmaxdelay;
  /* a wait longer than the session timeout would hold the slot longer
   * than a silent client may */
  if (d > c->timeout) d = c->timeout;
  return d;
}

/* The session's first wait: one line saying why it is slowed down. */
static void log_start(smtp_session const *s)
{
  char n[UINT_FMT], step[UINT_FMT], max[UINT_FMT];
  n[uint_fmt(n, s->conf->tarpitcount)] = 0;
  step[uint_fmt(step, s->conf->tarpitdelay)] = 0;
  max[uint_fmt(max, s->conf->tarpitmaxdelay < s->conf->timeout ? s->conf->tarpitmaxdelay : s->conf->timeout)] = 0;
  {
    char const *v[9] = { " ip=", s->remoteip, " tarpit: more than ", n,
                         " refused recipients (tarpitcount): each further refusal waits ", step,
                         " s more than the last, at most ", max, " s" };
    smtp_log(v, 9);
  }
}

/* Sleeps d seconds after sending what is queued. 1 slept, 0 the client is gone. */
static int wait_for(smtp_session *s, unsigned int d)
{
  tain until, t;
  if (!smtp_io_flush(&s->io) || s->io.failed) return 0;
  tain_now_g();
  tain_from_millisecs(&t, (int)(d * 1000));
  tain_add_g(&until, &t);
  deepsleepuntil_g(&until);
  return 1;
}

void smtp_tarpit_refuse(smtp_session *s, char const *reply, char const *addr, char const *why)
{
  unsigned int d = 0;
  stralloc sa = STRALLOC_ZERO;
  if (reply[0] == '5' && !s->relayclient && !s->authuser)
  {
    d = smtp_tarpit_delay(s->conf, ++s->refused);
    if (d && s->refused == s->conf->tarpitcount + 1) log_start(s);
    if (d && !wait_for(s, d)) d = 0;
  }
  smtp_session_error(s, reply);
  if (d)
  {
    char num[UINT_FMT];
    num[uint_fmt(num, d)] = 0;
    if (stralloc_cats(&sa, why) && stralloc_cats(&sa, "; tarpit ") && stralloc_cats(&sa, num)
     && stralloc_cats(&sa, " s") && stralloc_0(&sa)) why = sa.s;
  }
  smtp_txn_logrcpt(s, addr, why);
  stralloc_free(&sa);
}
