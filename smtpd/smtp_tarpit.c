/* smtp_tarpit.c: the growing wait before refusals of recipients (smtp_tarpit.h). */
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "smtp_log.h"
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
static void log_start(smtp_conn const *cn)
{
  smtp_conf const *c = cn->conf;
  char n[UINT_FMT], step[UINT_FMT], max[UINT_FMT];
  n[uint_fmt(n, c->tarpitcount)] = 0;
  step[uint_fmt(step, c->tarpitdelay)] = 0;
  max[uint_fmt(max, c->tarpitmaxdelay < c->timeout ? c->tarpitmaxdelay : c->timeout)] = 0;
  {
    char const *v[9] = { " ip=", cn->remoteip, " tarpit: more than ", n,
                         " refused recipients (tarpitcount): each further refusal waits ", step,
                         " s more than the last, at most ", max, " s" };
    smtp_log(v, 9);
  }
}

/* Sleeps d seconds after sending what is queued. 1 slept, 0 the client is gone. */
static int wait_for(smtp_io *io, unsigned int d)
{
  tain until, t;
  if (!smtp_io_flush(io) || io->failed) return 0;
  tain_now_g();
  tain_from_millisecs(&t, (int)(d * 1000));
  tain_add_g(&until, &t);
  deepsleepuntil_g(&until);
  return 1;
}

unsigned int smtp_tarpit_wait(smtp_io *io, smtp_conn const *cn, unsigned int *refused, char const *reply)
{
  unsigned int d;
  if (reply[0] != '5' || cn->relayclient || cn->authuser) return 0;
  d = smtp_tarpit_delay(cn->conf, ++*refused);
  if (d && *refused == cn->conf->tarpitcount + 1) log_start(cn);
  return d && wait_for(io, d) ? d : 0;
}
