/* users.c: canonical addresses and the local domains (the lookups are in users_lookup.c). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "users.h"

int users_canon(stralloc *sa, char const *addr)
{
  size_t i, n = strlen(addr);
  /* addr may point into sa itself (an empty sa has no buffer to point into) */
  if (sa->s && addr >= sa->s && addr < sa->s + sa->len)
  {
    size_t off = (size_t)(addr - sa->s);
    memmove(sa->s, sa->s + off, n);
    sa->len = n;
  }
  else
  {
    sa->len = 0;
    if (!stralloc_catb(sa, addr, n)) return 0;
  }
  for (i = 0; i < n; i++)
    if (sa->s[i] >= 'A' && sa->s[i] <= 'Z') sa->s[i] += 'a' - 'A';
  return stralloc_0(sa);
}

static void lower(char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) if (s[i] >= 'A' && s[i] <= 'Z') s[i] += 'a' - 'A';
}

int users_locals_load(stralloc *sa)
{
  stralloc vd = STRALLOC_ZERO;
  size_t i = 0;
  int r;
  sa->len = 0;
  r = control_readlines(sa, "locals");
  if (r < 0) return -1;
  if (!r && control_readline(sa, "me") < 0) return -1;
  r = control_readlines(&vd, "virtualdomains");
  if (r < 0) { stralloc_free(&vd); return -1; }
  while (i < vd.len)
  {
    size_t n = strlen(vd.s + i);
    char const *colon = memchr(vd.s + i, ':', n);
    size_t d = colon ? (size_t)(colon - (vd.s + i)) : n;
    if (d && (!stralloc_catb(sa, vd.s + i, d) || !stralloc_0(sa))) { stralloc_free(&vd); return -1; }
    i += n + 1;
  }
  stralloc_free(&vd);
  lower(sa->s, sa->len);
  return 1;
}

int users_is_local(stralloc const *locals, char const *addr)
{
  char const *at = strrchr(addr, '@');
  size_t dlen, i = 0;
  if (!at) return 1;
  at++;
  dlen = strlen(at);
  if (dlen && at[dlen - 1] == '.') dlen--;
  while (i < locals->len)
  {
    char const *l = locals->s + i;
    size_t n = strlen(l);
    size_t ln = (n && l[n-1] == '.') ? n - 1 : n;
    if (ln == dlen && ln && !strncasecmp(l, at, dlen)) return 1;
    i += n + 1;
  }
  return 0;
}
