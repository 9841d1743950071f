/* smtp_conf.c: loading tern-smtpd's settings from the settings table. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
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

/* The files smtp_conf_load and relay_load read, beside the settings. */
static char const *const others[] =
{
  "me", "smtpgreeting", "rcpthosts", "morercpthosts.cdb", "locals", "virtualdomains", 0
};

static int stamp_one(stralloc *sa, char const *name)
{
  stralloc path = STRALLOC_ZERO;
  struct stat st;
  int ok = stralloc_cats(&path, "control/") && stralloc_cats(&path, name) && stralloc_0(&path);
  stralloc fn = STRALLOC_ZERO;
  ok = ok && tern_path(&fn, path.s);
  stralloc_free(&path);
  if (!ok) { stralloc_free(&fn); return 0; }
  if (stat(fn.s, &st) < 0) memset(&st, 0, sizeof st);   /* absent: all zero */
  stralloc_free(&fn);
  {
    uint64_t v[7] = { (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                      (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
                      (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec };
    return stralloc_catb(sa, (char const *)v, sizeof v);
  }
}

int smtp_conf_stamp(stralloc *sa)
{
  unsigned int i;
  sa->len = 0;
  if (!stralloc_cats(sa, tern_home()) || !stralloc_0(sa)) return 0;
  for (i = 0; i < sizeof settings / sizeof *settings; i++)
    if (!stamp_one(sa, settings[i].name)) return 0;
  for (i = 0; others[i]; i++)
    if (!stamp_one(sa, others[i])) return 0;
  return 1;
}
