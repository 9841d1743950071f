/* addr.c: RFC 5321 path parsing and canonical addresses (lib/addr.h). Every
 * byte is checked against the grammar; anything else is refused, never
 * repaired, so what we check is what we deliver to. */
#include <string.h>
#include <strings.h>
#include <skalibs/bytestr.h>
#include <skalibs/fmtscan.h>
#include "addr.h"

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_atext(char c)
{
  return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static char lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* A host name: LDH labels of 1..63, not starting or ending with '-'; one
 * trailing dot allowed and dropped; lowercased. */
static int hostname(stralloc *sa, char const *s, size_t n)
{
  size_t i, label = 0, start = sa->len;
  if (n && s[n-1] == '.') n--;
  if (!n) return ADDR_EDOMAIN;
  if (n > ADDR_DOMAIN_MAX) return ADDR_ELONG;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    if (c == '.')
    {
      if (!label || s[i-1] == '-') return ADDR_EDOMAIN;
      label = 0;
    }
    else if (is_alnum(c) || (c == '-' && label))
    {
      if (++label > ADDR_LABEL_MAX) return ADDR_EDOMAIN;
    }
    else return ADDR_EDOMAIN;
  }
  if (s[n-1] == '-' || s[n-1] == '.') return ADDR_EDOMAIN;
  if (!stralloc_readyplus(sa, n)) return ADDR_ENOMEM;
  for (i = 0; i < n; i++) sa->s[start + i] = lower(s[i]);
  sa->len = start + n;
  return ADDR_OK;
}

/* [a.b.c.d] or [IPv6:...], rewritten in the one canonical text form, so
 * that two spellings of one address compare equal. */
static int literal(stralloc *sa, char const *s, size_t n)
{
  char ip[16], text[8 + IP6_FMT];
  char inner[64];
  size_t len, m;
  if (n < 3 || s[n-1] != ']' || n - 2 >= sizeof inner) return ADDR_EDOMAIN;
  memcpy(inner, s + 1, n - 2);
  inner[n - 2] = 0;
  if (n - 2 > 5 && !strncasecmp(inner, "ipv6:", 5))
  {
    m = ip6_scan(inner + 5, ip);
    if (!m || m != n - 7) return ADDR_EDOMAIN;
    memcpy(text, "[ipv6:", 6);
    len = 6 + ip6_fmt(text + 6, ip);
  }
  else
  {
    m = ip4_scan(inner, ip);
    if (!m || m != n - 2) return ADDR_EDOMAIN;
    text[0] = '[';
    len = 1 + ip4_fmt(text + 1, ip);
  }
  text[len++] = ']';
  return stralloc_catb(sa, text, len) ? ADDR_OK : ADDR_ENOMEM;
}

int addr_domain(stralloc *sa, char const *s, size_t n, int *lit)
{
  *lit = n && s[0] == '[';
  return *lit ? literal(sa, s, n) : hostname(sa, s, n);
}

/* Length of a domain or literal at s (up to a delimiter among stop). */
static size_t domain_span(char const *s, size_t n, char const *stop)
{
  size_t i = 0;
  if (n && s[0] == '[')
  {
    while (i < n && s[i] != ']') i++;
    return i < n ? i + 1 : n;
  }
  while (i < n && !strchr(stop, s[i])) i++;
  return i;
}

/* @a,@b: source route; each hop must be a valid domain, then it is dropped. */
static int route(char const *s, size_t n, size_t *used)
{
  size_t i = 0;
  stralloc tmp = STRALLOC_ZERO;
  int lit, r;
  for (;;)
  {
    size_t d;
    if (i >= n || s[i] != '@') { r = ADDR_ESYNTAX; break; }
    i++;
    d = domain_span(s + i, n - i, ",:>");
    tmp.len = 0;
    r = addr_domain(&tmp, s + i, d, &lit);
    if (r) break;
    i += d;
    if (i < n && s[i] == ',') { i++; continue; }
    if (i < n && s[i] == ':') { *used = i + 1; break; }
    r = ADDR_ESYNTAX;
    break;
  }
  stralloc_free(&tmp);
  return r;
}

/* A quoted local part: copies its content, unescaped, to q; returns the
 * bytes consumed (quotes included) or 0 when malformed. */
static size_t quoted(stralloc *q, char const *s, size_t n)
{
  size_t i = 1;
  while (i < n && s[i] != '"')
  {
    char c = s[i];
    if (c == '\\')
    {
      if (++i >= n || s[i] < 32 || s[i] > 126) return 0;
      c = s[i];
    }
    else if (c < 32 || c > 126) return 0;
    if (!stralloc_catb(q, &c, 1)) return 0;
    i++;
  }
  return i < n ? i + 1 : 0;
}

static int is_dotstring(char const *s, size_t n)
{
  size_t i;
  if (!n || s[0] == '.' || s[n-1] == '.') return 0;
  for (i = 0; i < n; i++)
  {
    if (s[i] == '.') { if (s[i-1] == '.') return 0; }
    else if (!is_atext(s[i])) return 0;
  }
  return 1;
}

/* Appends the canonical local part: bare when it is a dot-string, else
 * quoted with '"' and '\' escaped. Sets ADDR_ROUTING when it holds % ! @. */
static int put_local(addr *a, char const *s, size_t n)
{
  size_t i;
  if (byte_chr(s, n, '%') < n || byte_chr(s, n, '!') < n || byte_chr(s, n, '@') < n)
    a->flags |= ADDR_ROUTING;
  if (is_dotstring(s, n)) return stralloc_catb(&a->s, s, n);
  if (!stralloc_catb(&a->s, "\"", 1)) return 0;
  for (i = 0; i < n; i++)
  {
    if ((s[i] == '"' || s[i] == '\\') && !stralloc_catb(&a->s, "\\", 1)) return 0;
    if (!stralloc_catb(&a->s, s + i, 1)) return 0;
  }
  return stralloc_catb(&a->s, "\"", 1);
}

/* local-part [@ domain] up to '>' */
static int mailbox(addr *a, char const *s, size_t n, size_t *used)
{
  stralloc q = STRALLOC_ZERO;
  size_t i;
  int r = ADDR_ESYNTAX, lit;
  if (n && s[0] == '"')
  {
    i = quoted(&q, s, n);
    a->flags |= ADDR_QUOTED;
    if (!i || !q.len || !put_local(a, q.s, q.len)) goto end;
  }
  else
  {
    for (i = 0; i < n && s[i] != '@' && s[i] != '>'; i++) ;
    if (!is_dotstring(s, i) || !put_local(a, s, i)) goto end;
  }
  a->at = a->s.len;
  if (i < n && s[i] == '@')
  {
    size_t d = domain_span(s + i + 1, n - i - 1, ">");
    if (!stralloc_catb(&a->s, "@", 1)) { r = ADDR_ENOMEM; goto end; }
    r = addr_domain(&a->s, s + i + 1, d, &lit);
    if (r) goto end;
    if (lit) a->flags |= ADDR_LITERAL;
    i += 1 + d;
  }
  else a->flags |= ADDR_NODOMAIN;
  r = (i < n && s[i] == '>') ? ADDR_OK : ADDR_ESYNTAX;
  *used = i + 1;
 end:
  stralloc_free(&q);
  return r;
}

int addr_parse_path(addr *a, char const *s, size_t n, size_t *used)
{
  size_t i = 1, u = 0;
  int r;
  a->s.len = 0;
  a->at = 0;
  a->flags = 0;
  if (!n || s[0] != '<') return ADDR_ESYNTAX;
  if (n >= 2 && s[1] == '>')
  {
    a->flags = ADDR_NULL;
    *used = 2;
    return stralloc_0(&a->s) ? (a->s.len--, ADDR_OK) : ADDR_ENOMEM;
  }
  if (i < n && s[i] == '@')
  {
    r = route(s + i, n - i, &u);
    if (r) return r;
    a->flags |= ADDR_ROUTE;
    i += u;
  }
  r = mailbox(a, s + i, n - i, &u);
  if (r) return r;
  if (a->s.len > ADDR_MAX) return ADDR_ELONG;
  if (!stralloc_0(&a->s)) return ADDR_ENOMEM;
  a->s.len--;
  *used = i + u;
  return ADDR_OK;
}

char const *addr_strerror(int r)
{
  switch (r)
  {
    case ADDR_OK: return "ok";
    case ADDR_ESYNTAX: return "address syntax error";
    case ADDR_ELONG: return "address too long";
    case ADDR_EDOMAIN: return "invalid domain in the address";
    case ADDR_ENOMEM: return "out of memory";
    default: return "unknown address error";
  }
}

void addr_free(addr *a)
{
  stralloc_free(&a->s);
}
