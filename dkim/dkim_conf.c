/* dkim_conf.c: control/dkimdomains and the name rule (dkim_conf.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "dkim_conf.h"

int dkim_name_ok(char const *s, size_t n)
{
  size_t i, label = 0;
  if (!n || n > 253) return 0;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    if (c == '.')
    {
      if (!label) return 0;
      label = 0;
    }
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
    {
      if (++label > 63) return 0;
    }
    else return 0;
  }
  return label > 0;
}

void dkim_name_lower(char *s)
{
  for (; *s; s++) if (*s >= 'A' && *s <= 'Z') *s += 32;
}

typedef struct span_s span;
struct span_s { char const *s; size_t n; };

/* One line, split: pattern, selectors, domain (n 0 when absent). */
typedef struct line_s line;
struct line_s
{
  span pat;
  span sel[DKIM_MAXSEL];
  unsigned int nsel;
  span dom;
};

static int lower_ok(span const *x)
{
  char buf[254];
  size_t i;
  if (!x->n || x->n > 253) return 0;
  for (i = 0; i < x->n; i++) buf[i] = x->s[i] >= 'A' && x->s[i] <= 'Z' ? x->s[i] + 32 : x->s[i];
  return dkim_name_ok(buf, x->n);
}

static int parse(line *l, char const *s)
{
  char const *c1 = strchr(s, ':'), *c2, *p, *end;
  if (!c1) return 0;
  c2 = strchr(c1 + 1, ':');
  end = c2 ? c2 : c1 + strlen(c1);
  l->pat.s = s; l->pat.n = (size_t)(c1 - s);
  l->dom.s = c2 ? c2 + 1 : 0; l->dom.n = c2 ? strlen(c2 + 1) : 0;
  if (c2 && !lower_ok(&l->dom)) return 0;
  l->nsel = 0;
  for (p = c1 + 1; p <= end; p++)
  {
    char const *q = p;
    while (q < end && *q != ',') q++;
    if (l->nsel == DKIM_MAXSEL) return 0;
    l->sel[l->nsel].s = p; l->sel[l->nsel].n = (size_t)(q - p);
    if (!lower_ok(&l->sel[l->nsel++])) return 0;
    p = q;
  }
  if (l->pat.n && l->pat.s[0] == '.') { span x = { l->pat.s + 1, l->pat.n - 1 }; return lower_ok(&x); }
  return lower_ok(&l->pat);
}

/* How well the pattern fits dom: 0 not at all, else higher is better. */
static size_t score(span const *pat, char const *dom)
{
  size_t n = strlen(dom);
  if (pat->s[0] != '.') return pat->n == n && !strncasecmp(pat->s, dom, n) ? 1000 : 0;
  return n > pat->n && !strncasecmp(dom + n - pat->n, pat->s, pat->n) ? pat->n : 0;
}

static int cat_lower(stralloc *sa, span const *x)
{
  size_t start = sa->len;
  if (!stralloc_catb(sa, x->s, x->n) || !stralloc_0(sa)) return 0;
  dkim_name_lower(sa->s + start);
  return 1;
}

static int fill(dkim_rule *r, line const *l)
{
  span d = l->dom.n ? l->dom : l->pat;
  size_t off[DKIM_MAXSEL + 1];
  unsigned int i;
  if (d.s[0] == '.') { d.s++; d.n--; }
  r->sa.len = 0;
  off[0] = 0;
  if (!cat_lower(&r->sa, &d)) return 0;
  for (i = 0; i < l->nsel; i++)
  {
    off[i + 1] = r->sa.len;
    if (!cat_lower(&r->sa, &l->sel[i])) return 0;
  }
  /* pointers only now: the stralloc may have moved while it grew */
  r->domain = r->sa.s;
  for (i = 0; i < l->nsel; i++) r->sel[i] = r->sa.s + off[i + 1];
  r->nsel = l->nsel;
  return 1;
}

int dkim_conf_find(dkim_rule *r, char const *lines, int n, char const *dom, char const **bad)
{
  line best, l;
  size_t bestscore = 0;
  int i;
  for (i = 0; i < n; i++, lines += strlen(lines) + 1)
  {
    size_t sc;
    if (!parse(&l, lines)) { *bad = lines; errno = EINVAL; return -1; }
    sc = score(&l.pat, dom);
    if (sc > bestscore) { bestscore = sc; best = l; }
  }
  if (!bestscore) return 0;
  if (!fill(r, &best)) { errno = ENOMEM; return -1; }
  return 1;
}

void dkim_rule_free(dkim_rule *r)
{
  stralloc_free(&r->sa);
}
