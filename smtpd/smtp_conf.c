/* smtp_conf.c: loading tern-smtpd's settings from the settings table. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <skalibs/types.h>
#include "control.h"
#include "smtp_conf.h"

struct setting { char const *name; unsigned int def, min, max; size_t off; };

/* Every limit: its control file, default and bounds (docs/smtpd.md). */
static struct setting const settings[] =
{
  { "databytes", 10485760, 0, 2147483647U, offsetof(smtp_conf, databytes) },
  { "maxrcpt", 100, 1, 100000, offsetof(smtp_conf, maxrcpt) },
  { "maxerrors", 20, 1, 1000, offsetof(smtp_conf, maxerrors) },
  { "timeoutsmtpd", 1200, 1, 86400, offsetof(smtp_conf, timeout) },
  { "maxcmdline", 1024, 512, 65536, offsetof(smtp_conf, maxcmdline) },
  { "maxhops", 100, 1, 1000, offsetof(smtp_conf, maxhops) },
  { "authfaildelay", 1000, 0, 60000, offsetof(smtp_conf, authfaildelay) },
  { "authmaxfail", 3, 1, 100, offsetof(smtp_conf, authmaxfail) },
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

int smtp_conf_load(smtp_conf *c, char const **what)
{
  unsigned int i;
  char const *x;
  for (i = 0; i < sizeof settings / sizeof *settings; i++)
    if (!load_uint(c, settings + i)) { *what = settings[i].name; return 0; }
  x = getenv("DATABYTES");
  if (x && *x)
  {
    size_t n = uint_scan(x, &c->databytes);
    if (!n || x[n]) { *what = "$DATABYTES"; errno = EINVAL; return 0; }
  }
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
    case 0:
      c->greeting.len = 0;
      if (!stralloc_catb(&c->greeting, c->me.s, c->me.len) || !stralloc_cats(&c->greeting, " ESMTP")
       || !stralloc_0(&c->greeting)) return 0;
  }
  return 1;
}
