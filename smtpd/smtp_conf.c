/* smtp_conf.c: loading tern-smtpd's settings from the settings table. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <skalibs/types.h>
#include "control.h"
#include "stress.h"
#include "smtp_conf.h"

struct setting { char const *name; unsigned int def, min, max; size_t off; };

/* Every limit: its control file, default and bounds (docs/smtpd.md). */
static struct setting const settings[] =
{
  { "databytes", 10485760, 0, 2147483647U, offsetof(smtp_conf, databytesctl) },
  { "maxrcpt", 100, 1, 100000, offsetof(smtp_conf, maxrcpt) },
  { "maxerrors", 20, 1, 1000, offsetof(smtp_conf, maxerrors) },
  { "timeoutsmtpd", 1200, 1, 86400, offsetof(smtp_conf, timeoutnormal) },
  { "timeoutsmtpdstress", 10, 1, 86400, offsetof(smtp_conf, timeoutstress) },
  { "maxcmdline", 1024, 512, 65536, offsetof(smtp_conf, maxcmdline) },
  { "maxhops", 100, 1, 1000, offsetof(smtp_conf, maxhops) },
  { "authfaildelay", 1000, 0, 60000, offsetof(smtp_conf, authfaildelay) },
  { "authmaxfail", 3, 1, 100, offsetof(smtp_conf, authmaxfail) },
  { "tarpitcount", 5, 0, 100000, offsetof(smtp_conf, tarpitcount) },
  { "tarpitdelay", 1, 0, 3600, offsetof(smtp_conf, tarpitdelay) },
  { "tarpitmaxdelay", 30, 1, 3600, offsetof(smtp_conf, tarpitmaxdelay) },
  { "strictpipelining", 1, 0, 1, offsetof(smtp_conf, strictpipelining) },
};

static int load_uint(smtp_conf *c, struct setting const *s)
{
  unsigned int u;
  if (control_readuint(&u, s->name, s->def) < 0) return 0;
  if (u < s->min || u > s->max) { errno = ERANGE; return 0; }
  *(unsigned int *)((char *)c + s->off) = u;
  return 1;
}

/* A whole decimal number from the environment variable name, if set and
 * not empty. 1 ok (or unset), 0 not a number. */
static int env_uint(char const *name, unsigned int *u)
{
  char const *x = getenv(name);
  size_t n;
  if (!x || !*x) return 1;
  n = uint_scan(x, u);
  return n && !x[n];
}

/* Per connection, from the launcher or the rules: DATABYTES, TERN_STRESS
 * (set and not "0": short timeouts) and GREETDELAY (milliseconds). */
int smtp_conf_env(smtp_conf *c, char const **what)
{
  *what = "$DATABYTES";
  c->databytes = c->databytesctl;
  if (!env_uint("DATABYTES", &c->databytes)) { errno = EINVAL; return 0; }
  *what = "$GREETDELAY";
  c->greetdelay = 0;
  if (!env_uint("GREETDELAY", &c->greetdelay)) { errno = EINVAL; return 0; }
  if (c->greetdelay > SMTP_GREETDELAY_MAX) { errno = ERANGE; return 0; }
  c->stress = stress_on();
  c->timeout = stress_timeout(c->timeoutnormal, c->timeoutstress);
  return 1;
}

/* qmail's greeting: the text (smtpgreeting, else me) then " ESMTP", unless
 * the text says ESMTP already (a greeting carried over from another MTA). */
static int greeting_esmtp(stralloc *g)
{
  size_t i;
  g->len = strlen(g->s);   /* control_readline counts the NUL */
  for (i = 0; i + 5 <= g->len; i++)
    if (!memcmp(g->s + i, "ESMTP", 5) && (!i || g->s[i - 1] == ' ') && (i + 5 == g->len || g->s[i + 5] == ' '))
      return stralloc_0(g);
  return stralloc_cats(g, " ESMTP") && stralloc_0(g);
}

int smtp_conf_load(smtp_conf *c, char const **what)
{
  unsigned int i;
  for (i = 0; i < sizeof settings / sizeof *settings; i++)
    if (!load_uint(c, settings + i)) { *what = settings[i].name; return 0; }
  if (!smtp_conf_env(c, what)) return 0;
  *what = "me";
  {
    int r = control_readline(&c->me, "me");
    if (r < 0) return 0;
    if (!r || !c->me.len) { errno = ENOENT; return 0; }
  }
  *what = "smtpgreeting";
  switch (control_readline(&c->greeting, "smtpgreeting"))
  {
    case -1: return 0;
    case 1: if (c->greeting.s[0]) break;   /* an empty line counts as none */
    /* fall through */
    case 0: if (!stralloc_copys(&c->greeting, c->me.s) || !stralloc_0(&c->greeting)) return 0;
  }
  return greeting_esmtp(&c->greeting);
}

/* The files smtp_conf_load, relay_load and smtp_bad_load read, beside the settings. */
static char const *const others[] =
{
  "me", "smtpgreeting", "rcpthosts", "morercpthosts.cdb", "locals", "virtualdomains",
  "badmailfrom", "badrcptto", 0
};

#define STAMP_ONE (7 * sizeof(uint64_t))   /* control_stamp's part per file */

static char const *stamp_name(unsigned int i)
{
  unsigned int n = sizeof settings / sizeof *settings;
  return i < n ? settings[i].name : others[i - n];
}

int smtp_conf_same(stralloc const *full, stralloc *tmp)
{
  size_t head = strlen(tern_home()) + 1, off, i;
  static char const zero[STAMP_ONE];
  /* $TERN_HOME and control/ itself: a file created, removed or renamed in
   * it changes its stamp; then the full check looks at every file */
  tmp->len = 0;
  if (!stralloc_cats(tmp, tern_home()) || !stralloc_0(tmp) || !control_stamp(tmp, "")) return -1;
  off = head + STAMP_ONE;
  if (full->len < off || memcmp(full->s, tmp->s, off)) return 0;
  for (i = 0; stamp_name(i); i++, off += STAMP_ONE)
  {
    if (off + STAMP_ONE > full->len) return 0;
    /* absent when last read: control/'s stamp covers it */
    if (!memcmp(full->s + off, zero, STAMP_ONE)) continue;
    tmp->len = 0;
    if (!control_stamp(tmp, stamp_name(i))) return -1;
    if (memcmp(full->s + off, tmp->s, STAMP_ONE)) return 0;
  }
  return 1;
}

int smtp_conf_stamp(stralloc *sa)
{
  unsigned int i;
  sa->len = 0;
  if (!stralloc_cats(sa, tern_home()) || !stralloc_0(sa) || !control_stamp(sa, "")) return 0;
  for (i = 0; i < sizeof settings / sizeof *settings; i++)
    if (!control_stamp(sa, settings[i].name)) return 0;
  for (i = 0; others[i]; i++)
    if (!control_stamp(sa, others[i])) return 0;
  return 1;
}
