/* rules_parse.c: parsing tcprules lines and turning them into libs6 accessrules cdb keys. */
#include <string.h>
#include <skalibs/bytestr.h>
#include <skalibs/fmtscan.h>
#include <skalibs/types.h>
#include <skalibs/stralloc.h>
#include "rules_parse.h"

#define FAIL(s) return (*why = (s), -1)

static int is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

/* One IPv4 octet: 1 to 3 digits, no leading zero (it would read as octal
 * elsewhere), at most 255. Returns the characters used, 0 when bad. */
static size_t scan_octet(char const *s, size_t len, unsigned int *v)
{
  size_t i = 0;
  unsigned int n = 0;
  while (i < len && i < 4 && s[i] >= '0' && s[i] <= '9') n = n * 10 + (s[i++] - '0');
  if (!i || i > 3 || n > 255 || (i > 1 && s[0] == '0')) return 0;
  *v = n;
  return i;
}

/* "/N" at the end of an address, N from 0 to max. */
static int scan_plen(char const *s, size_t len, unsigned int max, unsigned int *plen)
{
  size_t i = 1;
  unsigned int n = 0;
  if (len < 2 || len > 4 || s[0] != '/') return 0;
  for (; i < len; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0;
    n = n * 10 + (s[i] - '0');
  }
  if ((len > 2 && s[1] == '0') || n > max) return 0;
  *plen = n;
  return 1;
}

/* 1 when no bit beyond plen is set in the nbytes-long address. */
static int host_bits_clear(char const *ip, unsigned int nbytes, unsigned int plen)
{
  unsigned int i = plen / 8;
  if (i < nbytes && plen % 8 && ((unsigned char)ip[i] & (0xffu >> (plen % 8)))) return 0;
  for (i = (plen + 7) / 8; i < nbytes; i++) if (ip[i]) return 0;
  return 1;
}

static int parse_ip4(rules_rule *r, char const *s, size_t len, char const **why)
{
  size_t i = 0;
  unsigned int n = 0;
  r->kind = RULES_IP4;
  for (;;)
  {
    unsigned int v;
    size_t k = scan_octet(s + i, len - i, &v);
    if (!k) FAIL("bad IPv4 octet (want 0 to 255, no leading zero)");
    i += k;
    if (i < len && s[i] == '-')
    {
      if (r->rpos < 4) FAIL("only one range per address");
      r->rpos = n;
      r->rlo = v;
      k = scan_octet(s + i + 1, len - i - 1, &r->rhi);
      if (!k) FAIL("bad end of range (want 0 to 255)");
      if (r->rhi < v) FAIL("range runs backwards");
      i += 1 + k;
    }
    r->ip[n++] = (char)v;
    if (i == len || s[i] == '/') break;
    if (s[i] != '.' || n == 4) FAIL("unexpected character in IPv4 address");
    if (++i == len) { r->plen = 8 * n; return 1; }
  }
  if (n < 4) FAIL("incomplete IPv4 address (end a prefix with '.', as in 10.1.)");
  r->plen = 32;
  if (i == len) return 1;
  if (r->rpos < 4) FAIL("a range cannot take a /length");
  if (!scan_plen(s + i, len - i, 32, &r->plen)) FAIL("bad prefix length (want /0 to /32)");
  if (!host_bits_clear(r->ip, 4, r->plen)) FAIL("address has bits set beyond its prefix length");
  return 1;
}

static int parse_ip6(rules_rule *r, char const *s, size_t len, char const **why)
{
  size_t alen = byte_chr(s, len, '/');
  char tmp[IP6_FMT + 1];
  static char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff };
  r->kind = RULES_IP6;
  r->plen = 128;
  if (!alen || alen > IP6_FMT) FAIL("bad IPv6 address");
  memcpy(tmp, s, alen);
  tmp[alen] = 0;
  if (ip6_scan(tmp, r->ip) != alen) FAIL("bad IPv6 address");
  if (alen < len && !scan_plen(s + alen, len - alen, 128, &r->plen)) FAIL("bad prefix length (want /0 to /128)");
  if (!host_bits_clear(r->ip, 16, r->plen)) FAIL("address has bits set beyond its prefix length");
  if (r->plen >= 96 && !memcmp(r->ip, mapped, 12))
    FAIL("IPv4-mapped address: write it as IPv4 (tern-tcpserver sees such clients as IPv4)");
  return 1;
}

/* =host, =.suffix, =: names are letters, digits, '-' and '_' in non-empty
 * labels; stored lowercased, without a trailing dot. */
static int parse_host(rules_rule *r, char const *s, size_t len, char const **why)
{
  size_t i, label = 0;
  if (!len) { r->kind = RULES_ANYHOST; return 1; }
  r->kind = RULES_HOST;
  if (s[0] == '.') { r->kind = RULES_SUFFIX; s++; len--; }
  if (len && s[len - 1] == '.') len--;
  if (!len) FAIL("empty host name");
  if (len > RULES_HOST_MAX) FAIL("host name longer than 253 characters");
  for (i = 0; i < len; i++)
  {
    char c = s[i];
    if (c == '.')
    {
      if (!label) FAIL("empty label in host name");
      label = 0;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      FAIL("bad character in host name");
    if (++label > 63) FAIL("host name label longer than 63 characters");
  }
  if (!stralloc_copyb(&r->host, s, len) || !stralloc_0(&r->host)) FAIL("out of memory");
  case_lowerb(r->host.s, len);
  return 1;
}

static int parse_address(rules_rule *r, char const *s, size_t len, char const **why)
{
  if (!len) { r->kind = RULES_DEFAULT; return 1; }
  if (memchr(s, '@', len)) FAIL("user@address rules (ident) are not supported");
  if (s[0] == '=') return parse_host(r, s + 1, len - 1, why);
  if (memchr(s, ':', len)) return parse_ip6(r, s, len, why);
  return parse_ip4(r, s, len, why);
}

static int is_name_start(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* One ",VAR=qvalueq" (q any character, as in tcprules) or ",VAR" (unset). */
static int parse_var(rules_rule *r, char const *s, size_t len, size_t *pos, char const **why)
{
  size_t i = *pos, name = i, end;
  if (i >= len || !is_name_start(s[i])) FAIL("bad variable name (want letters, digits, '_')");
  while (i < len && (is_name_start(s[i]) || (s[i] >= '0' && s[i] <= '9'))) i++;
  if (!stralloc_catb(&r->env, s + name, i - name)) FAIL("out of memory");
  if (i == len || s[i] == ',')
  {
    *pos = i;
    return stralloc_0(&r->env) ? 1 : (*why = "out of memory", -1);
  }
  if (s[i] != '=') FAIL("bad variable name (want letters, digits, '_')");
  if (++i == len) FAIL("missing value after '=' (quote it, as in VAR=\"\")");
  end = i + 1 + byte_chr(s + i + 1, len - i - 1, s[i]);
  if (end >= len) FAIL("value has no closing quote");
  if (!stralloc_catb(&r->env, "=", 1) || !stralloc_catb(&r->env, s + i + 1, end - i - 1)
   || !stralloc_0(&r->env)) FAIL("out of memory");
  *pos = end + 1;
  return 1;
}

static int parse_instructions(rules_rule *r, char const *s, size_t len, char const **why)
{
  size_t i;
  if (len >= 5 && !memcmp(s, "allow", 5)) { r->allow = 1; i = 5; }
  else if (len >= 4 && !memcmp(s, "deny", 4)) { r->allow = 0; i = 4; }
  else FAIL("instruction must start with allow or deny");
  while (i < len)
  {
    if (s[i] != ',') FAIL("expected ',' before a variable (no blanks between instructions)");
    i++;
    if (parse_var(r, s, len, &i, why) < 0) return -1;
  }
  if (r->env.len > RULES_ENV_MAX) FAIL("variables longer than 4096 bytes in one rule");
  return 1;
}

/* Where the address ends: the ':' before "allow" or "deny". IPv6 addresses
 * hold colons but never those words; "[addr]:" is accepted too. */
static size_t find_colon(char const *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
  {
    if (s[i] != ':') continue;
    if ((len - i > 5 && !memcmp(s + i + 1, "allow", 5) && (len - i == 6 || s[i + 6] == ','))
     || (len - i > 4 && !memcmp(s + i + 1, "deny", 4) && (len - i == 5 || s[i + 5] == ',')))
      return i;
  }
  return byte_chr(s, len, ':');
}

int rules_parse_line(rules_rule *r, char const *s, size_t len, char const **why)
{
  size_t colon, a = 0, alen;
  if (len > RULES_LINE_MAX) FAIL("line too long");
  if (memchr(s, 0, len)) FAIL("NUL byte in line");
  while (len && is_blank(s[len - 1])) len--;
  while (len && is_blank(*s)) { s++; len--; }
  if (!len || *s == '#') return 0;
  r->kind = 0; r->plen = 0; r->rpos = 4; r->rlo = r->rhi = 0; r->allow = 0;
  memset(r->ip, 0, sizeof r->ip);
  r->host.len = 0;
  r->env.len = 0;
  if (memchr(s, '\r', len) || memchr(s, '\n', len)) FAIL("CR or LF inside a line");
  colon = find_colon(s, len);
  if (colon == len) FAIL("missing ':' between address and instructions");
  alen = colon;
  if (*s == '[')
  {
    if (colon < 2 || s[colon - 1] != ']') FAIL("'[' without ']' before ':'");
    a = 1; alen = colon - 2;
    if (!memchr(s + 1, ':', alen)) FAIL("brackets are for IPv6 addresses only");
  }
  if (parse_address(r, s + a, alen, why) < 0) return -1;
  return parse_instructions(r, s + colon + 1, len - colon - 1, why);
}

void rules_rule_free(rules_rule *r)
{
  stralloc_free(&r->host);
  stralloc_free(&r->env);
}

static int sets_relayclient(rules_rule const *r)
{
  size_t i = 0;
  while (i < r->env.len)
  {
    char const *e = r->env.s + i;
    if (!strncmp(e, "RELAYCLIENT=", 12)) return 1;
    i += strlen(e) + 1;
  }
  return 0;
}

int rules_is_wide_relay(rules_rule const *r)
{
  if (!r->allow || !sets_relayclient(r)) return 0;
  switch (r->kind)
  {
    case RULES_DEFAULT: case RULES_ANYHOST: return 1;
    case RULES_SUFFIX: return !strchr(r->host.s, '.');
    case RULES_IP4: case RULES_IP6: return r->plen < 8;
    default: return 0;
  }
}

size_t rules_key_ip(char *key, int is6, char const *ip, unsigned int plen)
{
  size_t n = 4;
  memcpy(key, is6 ? "ip6/" : "ip4/", 4);
  n += is6 ? ip6_fmt(key + n, ip) : ip4_fmt(key + n, ip);
  key[n++] = '_';
  n += uint_fmt(key + n, plen);
  return n;
}

static int emit_host(rules_rule const *r, rules_emit_func *emit, void *ctx)
{
  char key[RULES_KEY_MAX];
  size_t n = 11;
  memcpy(key, "reversedns/", 11);
  if (r->kind == RULES_ANYHOST) key[n++] = '@';
  else
  {
    if (r->kind == RULES_SUFFIX) key[n++] = '.';
    memcpy(key + n, r->host.s, r->host.len - 1);
    n += r->host.len - 1;
  }
  return (*emit)(key, n, ctx);
}

int rules_keys(rules_rule const *r, rules_emit_func *emit, void *ctx)
{
  char key[RULES_KEY_MAX];
  char ip[16];
  unsigned int v;
  static char const zero[16] = { 0 };
  switch (r->kind)
  {
    case RULES_DEFAULT:
      return (*emit)(key, rules_key_ip(key, 0, zero, 0), ctx)
          && (*emit)(key, rules_key_ip(key, 1, zero, 0), ctx);
    case RULES_IP6:
      return (*emit)(key, rules_key_ip(key, 1, r->ip, r->plen), ctx);
    case RULES_IP4:
      if (r->rpos > 3) return (*emit)(key, rules_key_ip(key, 0, r->ip, r->plen), ctx);
      memcpy(ip, r->ip, 4);
      for (v = r->rlo; v <= r->rhi; v++)
      {
        ip[r->rpos] = (char)v;
        if (!(*emit)(key, rules_key_ip(key, 0, ip, r->plen), ctx)) return 0;
      }
      return 1;
    default:
      return emit_host(r, emit, ctx);
  }
}

int rules_value(rules_rule const *r, stralloc *sa)
{
  char len[2];
  if (!r->allow) return stralloc_catb(sa, "D", 1);
  len[0] = (char)(r->env.len >> 8);
  len[1] = (char)(r->env.len & 0xff);
  return stralloc_catb(sa, "A", 1) && stralloc_catb(sa, len, 2)
      && stralloc_catb(sa, r->env.s, r->env.len) && stralloc_catb(sa, "\0\0", 2);
}
