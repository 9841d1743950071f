/* inject_host.c: qualifying bare names as qmail-inject does, with
 * control/defaulthost, defaultdomain and plusdomain (inject.h). */
#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "inject.h"

/* sa = the first line of control/NAME, else of control/ALT (ALT may be
 * 0); empty when neither has one. 1 ok, -1 error (*what names the file). */
static int line_or(stralloc *sa, char const *name, char const *alt, char const **what)
{
  int r;
  *what = name;
  r = control_readline(sa, name);
  if (r < 0) return -1;
  if (r && sa->len > 1) return 1;
  sa->len = 0;
  if (!alt) return 1;
  *what = alt;
  r = control_readline(sa, alt);
  if (r < 0) return -1;
  if (!r || sa->len <= 1) sa->len = 0;
  return 1;
}

int inject_host_load(injhost *h, char const **what)
{
  stralloc me = STRALLOC_ZERO;
  int ok = line_or(&me, "me", 0, what) > 0
    /* a bare name goes to defaulthost; tern's own difference from qmail
     * (which uses me): without defaulthost, defaultdomain, because our
     * users live in the domain while me names the host (docs/migration-qmail.md) */
    && line_or(&h->host, "defaulthost", "defaultdomain", what) > 0
    && line_or(&h->domain, "defaultdomain", 0, what) > 0
    && line_or(&h->plus, "plusdomain", 0, what) > 0;
  if (ok && me.len)
  {
    if ((!h->host.len && !stralloc_copy(&h->host, &me))
     || (!h->domain.len && !stralloc_copy(&h->domain, &me))
     || (!h->plus.len && !stralloc_copy(&h->plus, &me))) ok = 0;
  }
  if (ok && !h->host.len) { *what = "me"; errno = 0; ok = 0; }
  stralloc_free(&me);
  if (!ok) return 0;
  /* defaulthost itself is a host name as any other: qualified below */
  {
    stralloc q = STRALLOC_ZERO;
    ok = inject_qualify_host(&q, h->host.s, h) && stralloc_copy(&h->host, &q);
    stralloc_free(&q);
  }
  return ok;
}

int inject_qualify_host(stralloc *out, char const *host, injhost const *h)
{
  size_t n = strlen(host);
  out->len = 0;
  if (n && host[n - 1] == '+' && h->plus.len)
  {
    /* "host+": plusdomain in place of the plus (qmail) */
    return stralloc_catb(out, host, n - 1) && stralloc_catb(out, ".", 1)
        && stralloc_cats(out, h->plus.s) && stralloc_0(out);
  }
  if (!stralloc_catb(out, host, n)) return 0;
  /* a name without a dot (an address literal aside) gets defaultdomain */
  if (n && host[0] != '[' && !memchr(host, '.', n) && h->domain.len
   && (!stralloc_catb(out, ".", 1) || !stralloc_cats(out, h->domain.s))) return 0;
  return stralloc_0(out);
}

int inject_qualify(stralloc *out, char const *addr, injhost const *h)
{
  char const *at = strrchr(addr, '@');
  stralloc host = STRALLOC_ZERO;
  int ok;
  out->len = 0;
  if (!at) return stralloc_cats(out, addr) && stralloc_catb(out, "@", 1) && stralloc_cats(out, h->host.s) && stralloc_0(out);
  ok = inject_qualify_host(&host, at + 1, h)
    && stralloc_catb(out, addr, (size_t)(at + 1 - addr)) && stralloc_cats(out, host.s) && stralloc_0(out);
  stralloc_free(&host);
  return ok;
}
