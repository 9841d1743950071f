/* mtasts.c: the MTA-STS texts (RFC 8461): TXT record, policy, HTTP response, cache record. */
#include <string.h>
#include <strings.h>
#include <skalibs/types.h>
#include "mtasts.h"

static int is_alnum(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_wsp(char c) { return c == ' ' || c == '\t'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

char const *mtasts_mode_name(int mode)
{
  return mode == MTASTS_ENFORCE ? "enforce" : mode == MTASTS_TESTING ? "testing" : "none";
}

/* One "name=value" field of the TXT record (trimmed). 1 ok, 0 invalid. */
static int txt_field(char const *s, size_t n, char *id, int *seen)
{
  size_t eq, i;
  for (eq = 0; eq < n && s[eq] != '='; eq++) ;
  if (!eq || eq >= n - 1 || eq > 32 || !is_alnum((unsigned char)s[0])) return 0;
  for (i = 1; i < eq; i++)
    if (!is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.') return 0;
  for (i = eq + 1; i < n; i++)
  {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x21 || c > 0x7e || c == ';' || c == '=') return 0;
  }
  if (eq != 2 || memcmp(s, "id", 2)) return 1;   /* an extension: ignored */
  if (*seen || n - 3 > MTASTS_ID_MAX) return 0;
  for (i = 3; i < n; i++) if (!is_alnum((unsigned char)s[i])) return 0;
  memcpy(id, s + 3, n - 3);
  id[n - 3] = 0;
  *seen = 1;
  return 1;
}

int mtasts_txt_parse(char const *s, size_t n, char *id)
{
  size_t i = 7;
  int seen = 0;
  if (n < 7 || memcmp(s, "v=STSv1", 7)) return 0;
  while (i < n && is_wsp(s[i])) i++;
  if (i < n && s[i] != ';') return 0;           /* "v=STSv10": not ours */
  while (i < n)
  {
    size_t start, end;
    i++;                                         /* the ';' */
    while (i < n && is_wsp(s[i])) i++;
    start = i;
    while (i < n && s[i] != ';') i++;
    end = i;
    while (end > start && is_wsp(s[end - 1])) end--;
    if (end == start)
    {
      if (i >= n) break;                         /* one trailing ';' */
      return -1;
    }
    if (!txt_field(s + start, end - start, id, &seen)) return -1;
  }
  return seen ? 1 : -1;
}

/* A domain name or "*." and one, lowercased into out (256 bytes). */
static int mx_pattern(char const *s, size_t n, char *out)
{
  size_t i, label = 0, start = 0;
  if (n >= 2 && s[0] == '*' && s[1] == '.') start = 2;
  if (n && s[n - 1] == '.') n--;
  if (n <= start || n > 253) return 0;
  for (i = start; i < n; i++)
  {
    unsigned char c = (unsigned char)s[i];
    if (c == '.')
    {
      if (!label) return 0;
      label = 0;
      continue;
    }
    if (!is_alnum(c) && c != '-' && c != '_') return 0;
    if (++label > 63) return 0;
  }
  if (!label) return 0;
  for (i = 0; i < n; i++) out[i] = lower(s[i]);
  out[n] = 0;
  return 1;
}

static int parse_maxage(char const *v, size_t n, uint32_t *age)
{
  uint64_t x = 0;
  size_t i;
  if (!n || n > 10) return 0;
  for (i = 0; i < n; i++)
  {
    if (v[i] < '0' || v[i] > '9') return 0;
    x = x * 10 + (uint64_t)(v[i] - '0');
  }
  *age = x > MTASTS_MAXAGE_MAX ? MTASTS_MAXAGE_MAX : (uint32_t)x;
  return 1;
}

#define KEYIS(k, kl, lit) ((kl) == sizeof(lit) - 1 && !memcmp((k), lit, sizeof(lit) - 1))

/* One "key: value" line. 1 ok, 0 invalid (*why set). */
static int policy_line(char const *s, size_t n, mtasts_policy *p, unsigned int *seen, char const **why)
{
  size_t colon, i, vs;
  char const *v;
  for (colon = 0; colon < n && s[colon] != ':'; colon++) ;
  if (colon >= n || !colon || colon > 32) { *why = "a line is not key: value"; return 0; }
  for (i = 0; i < colon; i++)
    if (!is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
    { *why = "a key holds a bad character"; return 0; }
  for (vs = colon + 1; vs < n && is_wsp(s[vs]); vs++) ;
  while (n > vs && is_wsp(s[n - 1])) n--;
  v = s + vs;
  n -= vs;
  if (KEYIS(s, colon, "version"))
  {
    if (*seen & 1 || !KEYIS(v, n, "STSv1")) { *why = "version is not STSv1 (or repeated)"; return 0; }
    *seen |= 1;
  }
  else if (KEYIS(s, colon, "mode"))
  {
    if (*seen & 2) { *why = "mode repeated"; return 0; }
    if (KEYIS(v, n, "enforce")) p->mode = MTASTS_ENFORCE;
    else if (KEYIS(v, n, "testing")) p->mode = MTASTS_TESTING;
    else if (KEYIS(v, n, "none")) p->mode = MTASTS_NONE;
    else { *why = "mode is not enforce, testing or none"; return 0; }
    *seen |= 2;
  }
  else if (KEYIS(s, colon, "max_age"))
  {
    if (*seen & 4 || !parse_maxage(v, n, &p->max_age)) { *why = "bad max_age (or repeated)"; return 0; }
    *seen |= 4;
  }
  else if (KEYIS(s, colon, "mx"))
  {
    if (p->nmx >= MTASTS_MX_MAX) { *why = "too many mx lines"; return 0; }
    if (!mx_pattern(v, n, p->mx[p->nmx])) { *why = "bad mx pattern"; return 0; }
    p->nmx++;
  }
  return 1;   /* other keys: extensions, ignored (RFC 8461 3.2) */
}

int mtasts_policy_parse(char const *s, size_t n, mtasts_policy *p, char const **why)
{
  size_t i = 0;
  unsigned int seen = 0;
  memset(p, 0, sizeof *p);
  while (i < n)
  {
    size_t start = i, end;
    while (i < n && s[i] != '\n') i++;
    end = i;
    if (i < n) i++;
    if (end > start && s[end - 1] == '\r') end--;
    if (end == start) continue;
    for (size_t j = start; j < end; j++)
      if (((unsigned char)s[j] < 32 && s[j] != '\t') || s[j] == 127)
      { *why = "a control character in the policy"; return 0; }
    if (!policy_line(s + start, end - start, p, &seen, why)) return 0;
  }
  if (seen != 7) { *why = "version, mode or max_age is missing"; return 0; }
  if (p->mode != MTASTS_NONE && !p->nmx) { *why = "no mx line"; return 0; }
  return 1;
}

int mtasts_mx_match(char const *pattern, char const *host)
{
  size_t hl = strlen(host), pl = strlen(pattern);
  if (hl && host[hl - 1] == '.') hl--;
  if (!hl || !pl) return 0;
  if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.')
  {
    char const *dot = memchr(host, '.', hl);
    size_t rest;
    if (!dot || dot == host) return 0;
    rest = hl - (size_t)(dot + 1 - host);
    return rest == pl - 2 && !strncasecmp(dot + 1, pattern + 2, rest);
  }
  return hl == pl && !strncasecmp(host, pattern, hl);
}

int mtasts_policy_match(mtasts_policy const *p, char const *host)
{
  unsigned int i;
  for (i = 0; i < p->nmx; i++) if (mtasts_mx_match(p->mx[i], host)) return 1;
  return 0;
}

/* The header field name at s (n bytes of the line) is name: its value. */
static int header_is(char const *s, size_t n, char const *name, char const **v, size_t *vl)
{
  size_t l = strlen(name);
  if (n <= l || s[l] != ':' || strncasecmp(s, name, l)) return 0;
  s += l + 1; n -= l + 1;
  while (n && is_wsp(*s)) s++, n--;
  while (n && is_wsp(s[n - 1])) n--;
  *v = s; *vl = n;
  return 1;
}

static int http_status(char const *s, size_t n)
{
  return n >= 12 && !memcmp(s, "HTTP/1.", 7) && s[7] >= '0' && s[7] <= '9' && s[8] == ' '
      && !memcmp(s + 9, "200", 3) && (n == 12 || s[12] == ' ');
}

int mtasts_http_body(char const *s, size_t n, size_t *off, size_t *len, char const **why)
{
  size_t i = 0, clen = 0;
  int line = 0, typed = 0, lengthed = 0;
  for (;;)
  {
    size_t start = i, end;
    char const *v;
    size_t vl;
    while (i < n && s[i] != '\n') i++;
    if (i >= n) { *why = "the response ends inside its header"; return 0; }
    end = i++;
    if (end > start && s[end - 1] == '\r') end--;
    if (!line++)
    {
      if (!http_status(s + start, end - start)) { *why = "the server did not answer 200"; return 0; }
      continue;
    }
    if (end == start) break;
    if (header_is(s + start, end - start, "Content-Type", &v, &vl))
    {
      if (typed || vl < 10 || strncasecmp(v, "text/plain", 10) || (vl > 10 && v[10] != ';' && !is_wsp(v[10])))
      { *why = "the policy is not served as text/plain"; return 0; }
      typed = 1;
    }
    else if (header_is(s + start, end - start, "Transfer-Encoding", &v, &vl))
    { *why = "the server used a transfer encoding (we asked HTTP/1.0)"; return 0; }
    else if (header_is(s + start, end - start, "Content-Length", &v, &vl))
    {
      uint64_t x;
      if (lengthed || !vl || vl > 19 || uint64_scan(v, &x) != vl) { *why = "bad Content-Length"; return 0; }
      clen = (size_t)x;
      if ((uint64_t)clen != x) { *why = "bad Content-Length"; return 0; }
      lengthed = 1;
    }
  }
  if (!typed) { *why = "the policy is not served as text/plain"; return 0; }
  *off = i;
  *len = n - i;
  if (lengthed)
  {
    if (clen > n - i) { *why = "the body is shorter than its Content-Length"; return 0; }
    *len = clen;
  }
  return 1;
}

int mtasts_cache_format(stralloc *sa, char const *id, uint64_t fetched, char const *body, size_t len)
{
  char fmt[UINT64_FMT];
  return stralloc_cats(sa, "tern-mtasts 1\nid ") && stralloc_cats(sa, id)
      && stralloc_cats(sa, "\nfetched ") && stralloc_catb(sa, fmt, uint64_fmt(fmt, fetched))
      && stralloc_cats(sa, "\n\n") && stralloc_catb(sa, body, len);
}

/* The next line of s[*i..n) without its LF; 0 when there is no LF. */
static int cache_line(char const *s, size_t n, size_t *i, char const **line, size_t *ll)
{
  char const *nl = *i < n ? memchr(s + *i, '\n', n - *i) : 0;
  if (!nl) return 0;
  *line = s + *i;
  *ll = (size_t)(nl - *line);
  *i += *ll + 1;
  return 1;
}

int mtasts_cache_parse(char const *s, size_t n, char *id, uint64_t *fetched, mtasts_policy *p)
{
  char const *l, *why;
  size_t i = 0, ll, k;
  if (!cache_line(s, n, &i, &l, &ll) || !KEYIS(l, ll, "tern-mtasts 1")) return 0;
  if (!cache_line(s, n, &i, &l, &ll) || ll < 4 || ll > 3 + MTASTS_ID_MAX || memcmp(l, "id ", 3)) return 0;
  for (k = 3; k < ll; k++) if (!is_alnum((unsigned char)l[k])) return 0;
  memcpy(id, l + 3, ll - 3);
  id[ll - 3] = 0;
  if (!cache_line(s, n, &i, &l, &ll) || ll < 9 || ll > 28 || memcmp(l, "fetched ", 8)
   || uint64_scan(l + 8, fetched) != ll - 8) return 0;
  if (!cache_line(s, n, &i, &l, &ll) || ll) return 0;
  return mtasts_policy_parse(s + i, n - i, p, &why);
}

int mtasts_name_ok(char const *d)
{
  size_t i, n = strlen(d);
  if (!n || n > 253 || d[0] == '.') return 0;
  for (i = 0; i < n; i++)
  {
    char c = d[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return 0;
    if (c == '.' && d[i + 1] == '.') return 0;
  }
  return 1;
}
