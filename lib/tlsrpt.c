/* tlsrpt.c: the TLS reporting record, TXT record and JSON strings (tlsrpt.h). */
#include <string.h>
#include <skalibs/types.h>
#include "mtasts.h"
#include "tlsrpt.h"

static char const *const results[] =
{
  "success", "starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
  "certificate-not-trusted", "validation-failure", "sts-policy-fetch-error", "sts-policy-invalid",
  "sts-webpki-invalid", "tlsa-invalid", "dnssec-invalid", "dane-required", 0
};
static char const *const types[] = { "sts", "no-policy-found", "tlsroutes", 0 };

static int inlist(char const *const *l, char const *s)
{
  for (; *l; l++) if (!strcmp(*l, s)) return 1;
  return 0;
}

int tlsrpt_result_ok(char const *t) { return inlist(results, t); }

int tlsrpt_result_policy(char const *t) { return !strncmp(t, "sts-", 4); }

/* The characters each free-form field may hold. */
#define SET_NAME "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define SET_IP "0123456789abcdefABCDEF.:"
#define SET_POLICY "abcdefghijklmnopqrstuvwxyz0123456789.,*_-"

/* " field", with what is outside set as '?', "-" when empty. */
static int putfield(stralloc *sa, char const *s, char const *set)
{
  size_t i, n = s ? strlen(s) : 0;
  if (!stralloc_catb(sa, " ", 1)) return 0;
  if (!n || (n == 1 && s[0] == '-')) return stralloc_catb(sa, "-", 1);
  if (n > 1024) n = 1024;
  for (i = 0; i < n; i++)
  {
    char c = s[i] && strchr(set, s[i]) ? s[i] : '?';
    if (!stralloc_catb(sa, &c, 1)) return 0;
  }
  return 1;
}

int tlsrpt_rec_format(stralloc *sa, tlsrpt_rec const *r)
{
  char fmt[UINT64_FMT];
  size_t start = sa->len;
  if (!r->domain || !mtasts_name_ok(r->domain) || !r->type || !inlist(types, r->type)
   || !r->result || !tlsrpt_result_ok(r->result)) return 0;
  if (!stralloc_catb(sa, "t1 ", 3) || !stralloc_catb(sa, fmt, uint64_fmt(fmt, r->when))
   || !putfield(sa, r->domain, SET_NAME) || !putfield(sa, r->type, SET_NAME)
   || !putfield(sa, r->result, SET_NAME) || !putfield(sa, r->mx, SET_NAME)
   || !putfield(sa, r->rip, SET_IP) || !putfield(sa, r->lip, SET_IP)
   || !putfield(sa, r->policy, SET_POLICY) || !stralloc_catb(sa, "\n", 1)
   || sa->len - start > TLSRPT_LINE_MAX)
  {
    sa->len = start;
    return 0;
  }
  return 1;
}

/* A parsed field: "-", or only characters of set (and '?', a replaced one). */
static int field_ok(char const *s, char const *set)
{
  if (!*s) return 0;
  if (!strcmp(s, "-")) return 1;
  for (; *s; s++) if (*s != '?' && !strchr(set, *s)) return 0;
  return 1;
}

int tlsrpt_rec_parse(char *s, size_t n, tlsrpt_rec *r)
{
  char *f[9];
  size_t i, k = 0;
  if (!n || n > TLSRPT_LINE_MAX || memchr(s, 0, n)) return 0;
  f[k++] = s;
  for (i = 0; i < n; i++)
    if (s[i] == ' ')
    {
      if (k == 9) return 0;
      s[i] = 0;
      f[k++] = s + i + 1;
    }
  /* the line's end: the caller's '\n' or the end of its buffer */
  if (k != 9) return 0;
  s[n] = 0;
  if (strcmp(f[0], "t1")) return 0;
  if (!*f[1] || uint64_scan(f[1], &r->when) != strlen(f[1])) return 0;
  if (!mtasts_name_ok(f[2]) || !inlist(types, f[3]) || !tlsrpt_result_ok(f[4])) return 0;
  if (!field_ok(f[5], SET_NAME) || !field_ok(f[6], SET_IP) || !field_ok(f[7], SET_IP)
   || !field_ok(f[8], SET_POLICY)) return 0;
  r->domain = f[2]; r->type = f[3]; r->result = f[4];
  r->mx = f[5]; r->rip = f[6]; r->lip = f[7]; r->policy = f[8];
  return 1;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A mailto URI's address (RFC 6068: up to '?', percent-decoded), checked:
 * printable, no blank, brackets, quotes, commas or semicolons, one '@'
 * with something on each side, no leading '-'. 1 appended to rua, 0 refused. */
static int mailto(stralloc *rua, char const *s, size_t n)
{
  char a[256];
  size_t i, k = 0, at = 0, ats = 0;
  for (i = 0; i < n && s[i] != '?'; i++)
  {
    char c = s[i];
    if (c == '%')
    {
      int h, l;
      if (i + 2 >= n) return 0;
      h = hexval(s[i + 1]); l = hexval(s[i + 2]);
      if (h < 0 || l < 0) return 0;
      c = (char)(h * 16 + l);
      i += 2;
    }
    if ((unsigned char)c <= 32 || (unsigned char)c >= 127 || strchr("<>()[],;:\"\\", c)) return 0;
    if (c == '@') at = k, ats++;
    if (k >= sizeof a - 1) return 0;
    a[k++] = c;
  }
  /* a leading '-' would read as an option where the address becomes an argument */
  if (ats != 1 || !at || at == k - 1 || a[0] == '-') return 0;
  return stralloc_catb(rua, a, k) && stralloc_0(rua);
}

static int wsp(char c) { return c == ' ' || c == '\t'; }

/* The rua list s[0..n): URIs separated by commas (with blanks around). */
static int rua_list(char const *s, size_t n, stralloc *rua, unsigned int *https)
{
  size_t i = 0, nmail = 0;
  if (!n) return 0;
  while (i < n)
  {
    size_t b, e;
    while (i < n && wsp(s[i])) i++;
    b = i;
    while (i < n && s[i] != ',') i++;
    e = i;
    while (e > b && wsp(s[e - 1])) e--;
    if (e == b) return 0;
    if (e - b > 7 && !strncasecmp(s + b, "mailto:", 7))
    {
      if (nmail < TLSRPT_RUA_MAX)
      {
        size_t before = rua->len;
        if (!mailto(rua, s + b + 7, e - b - 7)) { rua->len = before; return 0; }
        nmail++;
      }
    }
    else if (e - b > 8 && !strncasecmp(s + b, "https://", 8)) (*https)++;
    if (i < n) i++;   /* the comma */
    if (i == n && s[n - 1] == ',') return 0;
  }
  return 1;
}

int tlsrpt_txt_parse(char const *s, size_t n, stralloc *rua, unsigned int *https)
{
  size_t i = 10, start = rua->len;
  int seen = 0;
  *https = 0;
  if (n < 10 || memcmp(s, "v=TLSRPTv1", 10)) return 0;
  if (n > 10 && !wsp(s[10]) && s[10] != ';') return 0;
  while (i < n)
  {
    size_t b, e;
    while (i < n && wsp(s[i])) i++;
    if (i == n) break;
    if (s[i] != ';') goto bad;
    i++;
    while (i < n && wsp(s[i])) i++;
    if (i == n) break;   /* a final delimiter */
    b = i;
    while (i < n && s[i] != ';') i++;
    e = i;
    while (e > b && wsp(s[e - 1])) e--;
    if (e - b >= 4 && !memcmp(s + b, "rua=", 4))
    {
      if (seen++ || !rua_list(s + b + 4, e - b - 4, rua, https)) goto bad;
    }
    else
    {
      /* an extension: name "=" value; the name 1*32 of alnum, '_', '.', '-' */
      size_t k = b;
      while (k < e && k - b < 33 && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')
             || (s[k] >= '0' && s[k] <= '9') || s[k] == '_' || s[k] == '.' || s[k] == '-')) k++;
      if (k == b || k - b > 32 || k == e || s[k] != '=') goto bad;
    }
  }
  if (!seen) goto bad;
  return 1;
 bad:
  rua->len = start;
  return -1;
}

int tlsrpt_json_str(stralloc *sa, char const *s)
{
  static char const hex[] = "0123456789abcdef";
  if (!stralloc_catb(sa, "\"", 1)) return 0;
  for (; *s; s++)
  {
    unsigned char c = (unsigned char)*s;
    char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
    int ok;
    if (c == '"' || c == '\\') { char q[2] = { '\\', (char)c }; ok = stralloc_catb(sa, q, 2); }
    else if (c < 32 || c == 127) ok = stralloc_catb(sa, e, 6);
    else ok = stralloc_catb(sa, s, 1);
    if (!ok) return 0;
  }
  return stralloc_catb(sa, "\"", 1);
}
