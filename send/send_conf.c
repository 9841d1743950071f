/* send_conf.c: tern-send's settings, one table of names and defaults:
 *   concurrencylocal 10, concurrencyremote 20 (1..1000), queuelifetime
 *   604800 s, retryschedule, remotebatch 100 (messages per tern-remote run;
 *   1: a run per message), remoteidle 5 s (an idle run waits that long for
 *   its next message; 0: no wait), remotelifetime 300 s (a run older than
 *   that gets no new message), queueactive 20000 (messages held in
 *   memory; at least 1), delaywarning 14400 s (a message queued that long
 *   gets one delay report; 0: none), firstdelay 0 s (a new message waits
 *   that long before its first attempt), bouncemaxbytes 10485760 (RET=FULL
 *   returns the whole message up to that size, else its headers; at most
 *   SEND_BOUNCEMAX_LIMIT), me, bouncefrom, bouncehost, doublebounceto,
 *   locals, smtproutes (to group messages by route). */
#include <string.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "retryschedule.h"
#include "users.h"
#include "send.h"

static int readline_default(stralloc *sa, char const *name, char const *def)
{
  int r = control_readline(sa, name);
  if (r < 0) return -1;
  if (!r || sa->len <= 1)
  {
    sa->len = 0;
    if (!stralloc_cats(sa, def) || !stralloc_0(sa)) return -1;
  }
  return r;
}

int sendconf_load(sendconf *c)
{
  int r;
  if (control_readuint(&c->conclocal, "concurrencylocal", 10) < 0
   || control_readuint(&c->concremote, "concurrencyremote", 20) < 0
   || control_readuint(&c->lifetime, "queuelifetime", 604800) < 0
   || control_readuint(&c->remotebatch, "remotebatch", 100) < 0
   || control_readuint(&c->remoteidle, "remoteidle", 5) < 0
   || control_readuint(&c->remotelife, "remotelifetime", 300) < 0
   || control_readuint(&c->active, "queueactive", 20000) < 0
   || control_readuint(&c->delaywarn, "delaywarning", 14400) < 0
   || control_readuint(&c->firstdelay, "firstdelay", 0) < 0
   || control_readuint(&c->bouncemaxbytes, "bouncemaxbytes", 10485760) < 0) return -1;
  /* the report is built in memory: a larger setting means this much */
  if (c->bouncemaxbytes > SEND_BOUNCEMAX_LIMIT) c->bouncemaxbytes = SEND_BOUNCEMAX_LIMIT;
  if (!c->remotebatch) c->remotebatch = 1;
  if (c->active < 1) c->active = 1;
  if (!c->conclocal) c->conclocal = 1;
  if (!c->concremote) c->concremote = 1;
  if (c->conclocal > 1000) c->conclocal = 1000;
  if (c->concremote > 1000) c->concremote = 1000;
  if (retryschedule_load(c->retry, SEND_RETRY_MAX, &c->nretry) < 0) return -1;
  if (readline_default(&c->me, "me", "localhost") < 0) return -1;
  if (readline_default(&c->bouncefrom, "bouncefrom", "MAILER-DAEMON") < 0) return -1;
  if (readline_default(&c->bouncehost, "bouncehost", c->me.s) < 0) return -1;
  r = control_readline(&c->doublebounceto, "doublebounceto");
  if (r < 0) return -1;
  c->doublebounce = !r || c->doublebounceto.len > 1;
  if (!r && (!stralloc_cats(&c->doublebounceto, "postmaster") || !stralloc_0(&c->doublebounceto))) return -1;
  if (c->doublebounce && !strchr(c->doublebounceto.s, '@'))
  {
    c->doublebounceto.len--;
    if (!stralloc_catb(&c->doublebounceto, "@", 1) || !stralloc_cats(&c->doublebounceto, c->me.s)
     || !stralloc_0(&c->doublebounceto)) return -1;
  }
  c->routes.len = 0;
  if (control_readlines(&c->routes, "smtproutes") < 0) return -1;
  return users_locals_load(&c->locals);
}

uint64_t sendconf_delay(sendconf const *c, unsigned int tries)
{
  return retryschedule_delay(c->retry, c->nretry, tries);
}
