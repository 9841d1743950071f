/* inject_addr.c: the addresses in a To/Cc/Bcc field, for sendmail -t. */
#include <string.h>
#include "inject.h"

/* The first ':' of s outside domain literals, or 0. */
static char *route_colon(char *s, size_t n)
{
  size_t i;
  int lit = 0;
  for (i = 0; i < n; i++)
  {
    if (s[i] == '\\' && lit) i++;
    else if (s[i] == '[') lit = 1;
    else if (s[i] == ']') lit = 0;
    else if (s[i] == ':' && !lit) return s + i;
  }
  return 0;
}

/* Ends one list element: the <...> part when there was one, else the
 * bare text outside comments. */
static int flush(stralloc *out, stralloc *bare, stralloc *angle, int had_angle)
{
  stralloc *a = had_angle ? angle : bare;
  char *s = a->s;
  size_t n = a->len;
  int r = 0;
  if (had_angle && n)
  {
    /* an obsolete source route "@a,@b:user@c" keeps only the address;
     * "@[IPv6:::1]:user@c" routes through a literal */
    char *colon = route_colon(s, n);
    if (s[0] == '@' && colon) { n -= (size_t)(colon + 1 - s); s = colon + 1; }
  }
  if (n)
  {
    if (!stralloc_catb(out, s, n) || !stralloc_0(out)) return -1;
    r = 1;
  }
  bare->len = angle->len = 0;
  return r;
}

int inject_addrlist(stralloc *out, char const *s, size_t n)
{
  stralloc bare = STRALLOC_ZERO, angle = STRALLOC_ZERO;
  size_t i;
  int count = 0, depth = 0, quote = 0, literal = 0, inangle = 0, had_angle = 0, r;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    stralloc *cur = inangle ? &angle : &bare;
    if (literal)
    {
      /* a domain literal ("[IPv6:::1]") is one atom: its colons are not
       * a group's, its commas not a list's; folding white space goes */
      if (c == '\\' && i + 1 < n) { if (!stralloc_catb(cur, s + i, 2)) goto oom; i++; continue; }
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
      if (!stralloc_catb(cur, &c, 1)) goto oom;
      if (c == ']') literal = 0;
      continue;
    }
    if (quote)
    {
      if (c == '\\' && i + 1 < n) { if (!stralloc_catb(cur, s + i, 2)) goto oom; i++; continue; }
      if (!stralloc_catb(cur, &c, 1)) goto oom;
      if (c == '"') quote = 0;
      continue;
    }
    if (depth)
    {
      if (c == '\\' && i + 1 < n) i++;
      else if (c == '(') depth++;
      else if (c == ')') depth--;
      continue;
    }
    switch (c)
    {
      case '(': depth = 1; break;
      case '"': quote = 1; if (!stralloc_catb(cur, &c, 1)) goto oom; break;
      case '[':
        /* a literal only follows '@'; elsewhere '[' is just text */
        literal = cur->len && cur->s[cur->len - 1] == '@';
        if (!stralloc_catb(cur, &c, 1)) goto oom;
        break;
      case '<': inangle = 1; had_angle = 1; angle.len = 0; break;
      case '>': inangle = 0; break;
      case ' ': case '\t': case '\r': case '\n': break;
      case ':':
        /* "group: a, b;": what came before is the group's name */
        if (!inangle) { bare.len = 0; break; }
        if (!stralloc_catb(cur, &c, 1)) goto oom;
        break;
      case ',': case ';':
        if (inangle) { if (!stralloc_catb(cur, &c, 1)) goto oom; break; }
        r = flush(out, &bare, &angle, had_angle);
        if (r < 0) goto oom;
        count += r;
        had_angle = 0;
        break;
      default:
        if (!stralloc_catb(cur, &c, 1)) goto oom;
    }
  }
  r = flush(out, &bare, &angle, had_angle);
  if (r < 0) goto oom;
  count += r;
  stralloc_free(&bare);
  stralloc_free(&angle);
  return count;
 oom:
  stralloc_free(&bare);
  stralloc_free(&angle);
  return -1;
}
