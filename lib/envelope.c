/* envelope.c: parse and build the qmail-queue envelope. One parser for the
 * pipe into tern-queue and for the queue files: short or trailing input is
 * rejected, never guessed at. */
#include <errno.h>
#include <string.h>
#include "dsn.h"
#include "envelope.h"

static size_t field(char const *s, size_t n)
{
  char const *z = memchr(s, 0, n > ENVELOPE_ADDR_MAX + 1 ? ENVELOPE_ADDR_MAX + 1 : n);
  return z ? (size_t)(z - s) : (size_t)-1;
}

/* An M or N record at s[i] (tag already checked): its text, or 0. */
static char const *params(char const *s, size_t n, size_t *i)
{
  size_t f = field(s + *i + 1, n - *i - 1);
  char const *p = s + *i + 1;
  if (f == (size_t)-1 || !dsn_record_ok(p, f)) return 0;
  *i += 2 + f;
  return p;
}

int envelope_parse(envelope *e, char const *s, size_t n, int exact)
{
  size_t i = 0, f;
  char const *none = 0;
  genalloc_setlen(char const *, &e->rcpts, 0);
  genalloc_setlen(char const *, &e->rparams, 0);
  e->mparams = 0;
  if (n < 3 || s[0] != 'F') goto bad;
  f = field(s + 1, n - 1);
  if (f == (size_t)-1) goto bad;
  e->sender = s + 1;
  i = 2 + f;
  if (i < n && s[i] == 'M' && !(e->mparams = params(s, n, &i))) goto bad;
  for (;;)
  {
    char const *r;
    if (i >= n) goto bad;
    if (!s[i]) break;
    if (s[i] != 'T') goto bad;
    f = field(s + i + 1, n - i - 1);
    if (f == (size_t)-1 || !f) goto bad;
    r = s + i + 1;
    if (!genalloc_append(char const *, &e->rcpts, &r)) return -1;
    i += 2 + f;
    if (i < n && s[i] == 'N')
    {
      char const *p = params(s, n, &i);
      if (!p) goto bad;
      if (!genalloc_append(char const *, &e->rparams, &p)) return -1;
    }
    else if (!genalloc_append(char const *, &e->rparams, &none)) return -1;
  }
  i++;
  if (!envelope_nrcpt(e) || (exact && i != n)) goto bad;
  e->len = i;
  return 1;
 bad:
  genalloc_setlen(char const *, &e->rcpts, 0);
  genalloc_setlen(char const *, &e->rparams, 0);
  e->mparams = 0;
  errno = EPROTO;
  return 0;
}

void envelope_free(envelope *e)
{
  genalloc_free(char const *, &e->rcpts);
  genalloc_free(char const *, &e->rparams);
}

static int add(stralloc *sa, char tag, char const *addr)
{
  return stralloc_catb(sa, &tag, 1) && stralloc_cats(sa, addr) && stralloc_0(sa);
}

int envelope_add_sender(stralloc *sa, char const *sender)
{
  return add(sa, 'F', sender);
}

int envelope_add_rcpt(stralloc *sa, char const *rcpt)
{
  return add(sa, 'T', rcpt);
}

int envelope_add_mparams(stralloc *sa, char const *params)
{
  return !*params || add(sa, 'M', params);
}

int envelope_add_rparams(stralloc *sa, char const *params)
{
  return !*params || add(sa, 'N', params);
}

int envelope_finish(stralloc *sa)
{
  return stralloc_0(sa);
}
