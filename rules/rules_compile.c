/* rules_compile.c: reading a tcprules text, reporting bad lines, writing the cdb records. */
#include <errno.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "cdbwrite.h"
#include "rules_parse.h"
#include "rules_compile.h"

typedef struct compile_s compile;
struct compile_s
{
  cdbwrite *w;
  stralloc value;
  stralloc src;      /* "LINE:TEXT" */
  stralloc key;
};

/* Reads one line into sa (without '\n'), keeping at most max+1 bytes so a
 * huge line cannot grow memory: *toolong is set when it was longer.
 * Returns 1 line read, 0 end of input, -1 read error. */
static int read_line(buffer *in, stralloc *sa, size_t max, int *toolong)
{
  int got = 0;
  sa->len = 0;
  *toolong = 0;
  for (;;)
  {
    char c;
    ssize_t r = buffer_get(in, &c, 1);
    if (r < 0) return -1;
    if (!r || c == '\n')
    {
      if (sa->len > max) *toolong = 1;
      return r ? 1 : got;
    }
    got = 1;
    if (sa->len > max) { *toolong = 1; continue; }
    if (!stralloc_catb(sa, &c, 1)) return -1;
  }
}

static int emit(char const *key, size_t klen, void *ctx)
{
  compile *c = ctx;
  c->key.len = 0;
  return cdbwrite_add(c->w, key, klen, c->value.s, c->value.len)
      && stralloc_cats(&c->key, RULES_META_SRC) && stralloc_catb(&c->key, key, klen)
      && cdbwrite_add(c->w, c->key.s, c->key.len, c->src.s, c->src.len);
}

static void bad(unsigned long line, char const *why)
{
  char fmt[ULONG_FMT];
  fmt[ulong_fmt(fmt, line)] = 0;
  strerr_warn(PROG, ": line ", fmt, ": ", why);
}

/* 1 compiled, 0 bad line (reported), -1 write error */
static int one_line(compile *c, rules_rule *r, unsigned long n, char const *s, size_t len, unsigned int flags, int *hosts)
{
  char const *why;
  char fmt[ULONG_FMT];
  int p = rules_parse_line(r, s, len, &why);
  if (p < 0) { bad(n, why); return 0; }
  if (!p) return 1;
  if (!(flags & RULES_WIDE_OK) && rules_is_wide_relay(r))
  {
    bad(n, "refusing a catch-all or very wide rule that sets RELAYCLIENT: it makes an open relay (use -w if you mean it)");
    return 0;
  }
  if (r->kind == RULES_HOST || r->kind == RULES_SUFFIX || r->kind == RULES_ANYHOST) *hosts = 1;
  c->value.len = 0;
  c->src.len = 0;
  if (!rules_value(r, &c->value)
   || !stralloc_catb(&c->src, fmt, ulong_fmt(fmt, n)) || !stralloc_catb(&c->src, ":", 1)
   || !stralloc_catb(&c->src, s, len)) return -1;
  while (c->src.len && (c->src.s[c->src.len - 1] == '\r' || c->src.s[c->src.len - 1] == ' '
   || c->src.s[c->src.len - 1] == '\t')) c->src.len--;
  return rules_keys(r, &emit, c) ? 1 : -1;
}

long rules_compile(buffer *in, cdbwrite *w, size_t maxline, unsigned int flags)
{
  compile c = { .w = w, .value = STRALLOC_ZERO, .src = STRALLOC_ZERO, .key = STRALLOC_ZERO };
  rules_rule r = RULES_RULE_ZERO;
  stralloc line = STRALLOC_ZERO;
  unsigned long n = 0;
  long errors = 0;
  int hosts = 0, toolong, e;
  for (;;)
  {
    int got = read_line(in, &line, maxline, &toolong);
    if (got < 0) { errors = -1; break; }
    if (!got) break;
    n++;
    if (toolong) { bad(n, "line too long"); errors++; continue; }
    got = one_line(&c, &r, n, line.s, line.len, flags, &hosts);
    if (got < 0) { errors = -1; break; }
    if (!got) errors++;
  }
  if (!errors && hosts && !cdbwrite_add(w, RULES_META_HOSTRULES, sizeof RULES_META_HOSTRULES - 1, "1", 1))
    errors = -1;
  e = errno;
  stralloc_free(&line); stralloc_free(&c.value); stralloc_free(&c.src); stralloc_free(&c.key);
  rules_rule_free(&r);
  errno = e;
  return errors;
}
