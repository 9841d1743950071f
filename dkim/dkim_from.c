/* dkim_from.c: the domain of a From field's first mailbox (dkim_from.h). */
#include "dkim_conf.h"
#include "dkim_from.h"

/* What the scan keeps: the text outside <> and the text inside the first
 * <...>, each with the place of its last '@' outside quotes. */
typedef struct part_s part;
struct part_s
{
  stralloc text;
  size_t at;      /* one past the last '@', 0 when none */
};

static int keep(part *p, char c, int inq)
{
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return 1;
  if (!stralloc_catb(&p->text, &c, 1)) return 0;
  if (c == '@' && !inq) p->at = p->text.len;
  return 1;
}

/* Scans the first mailbox; 1 ok, 0 out of memory. */
static int scan(part *plain, part *angle, int *had_angle, char const *v, size_t n)
{
  size_t i;
  unsigned int depth = 0;
  int inq = 0, esc = 0, in_angle = 0;
  for (i = 0; i < n; i++)
  {
    char c = v[i];
    part *p = in_angle ? angle : *had_angle ? 0 : plain;
    if (esc) { esc = 0; if (!depth && p && !keep(p, c, 1)) return 0; continue; }
    if (c == '\\' && (depth || inq)) { esc = 1; continue; }
    if (depth)
    {
      if (c == '(') depth++;
      else if (c == ')') depth--;
      continue;
    }
    if (inq) { if (c == '"') inq = 0; else if (p && !keep(p, c, 1)) return 0; continue; }
    if (c == '(') depth = 1;
    else if (c == '"') inq = 1;
    else if (c == '<' && !in_angle && !*had_angle) { in_angle = 1; *had_angle = 1; }
    else if (c == '>' && in_angle) in_angle = 0;
    else if (c == ',' && !in_angle) break;
    else if (p && !keep(p, c, 0)) return 0;
  }
  return 1;
}

static int domain_of(stralloc *dom, part const *p)
{
  size_t n;
  if (!p->at) return 0;
  n = p->text.len - p->at;
  while (n && p->text.s[p->at + n - 1] == '.') n--;
  dom->len = 0;
  if (!stralloc_catb(dom, p->text.s + p->at, n) || !stralloc_0(dom)) return 0;
  dom->len--;
  dkim_name_lower(dom->s);
  return dkim_name_ok(dom->s, dom->len);
}

int dkim_from_domain(stralloc *dom, char const *v, size_t n)
{
  part plain = { STRALLOC_ZERO, 0 }, angle = { STRALLOC_ZERO, 0 };
  int had_angle = 0;
  int r = scan(&plain, &angle, &had_angle, v, n) && domain_of(dom, had_angle ? &angle : &plain);
  stralloc_free(&plain.text);
  stralloc_free(&angle.text);
  return r;
}
