/* Fuzz tern-dkimsign's message parsers: the header scan, the field split,
 * relaxed canonicalisation of fields and body, the From domain, the h= list
 * and the header hash; then the same bytes as a control/dkimdomains file.
 * Properties: the scan finds the same end however the text arrives (the
 * first byte picks the piece size); fields lie inside the section, in
 * order; a canonical field has no line end, no double or trailing blank and
 * a lowercase name; the canonical body has only CRLF line ends, no blank
 * before one, no empty line at its end, and is the same fed whole or in
 * pieces; a From domain and a rule's names pass dkim_name_ok. */
#include "fuzz.h"
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "../../dkim/dkim_canon.h"
#include "../../dkim/dkim_conf.h"
#include "../../dkim/dkim_head.h"

static void check_field(char const *s, size_t n)
{
  stralloc c = STRALLOC_ZERO;
  size_t i, colon = 0;
  FUZZ_ASSERT(dkim_canon_header(&c, s, n));
  while (colon < c.len && c.s[colon] != ':') colon++;
  FUZZ_ASSERT(colon < c.len);
  for (i = 0; i < colon; i++) FUZZ_ASSERT(!(c.s[i] >= 'A' && c.s[i] <= 'Z') && c.s[i] != ' ' && c.s[i] != '\t');
  for (i = 0; i < c.len; i++)
  {
    FUZZ_ASSERT(c.s[i] != '\r' && c.s[i] != '\n' && c.s[i] != '\t');
    if (i > colon) FUZZ_ASSERT(!(c.s[i] == ' ' && (i + 1 == c.len || c.s[i+1] == ' ' || i == colon + 1)));
  }
  stralloc_free(&c);
}

/* The canonical body of s[0..n) fed in pieces of step bytes. */
static void body(stralloc *out, unsigned char *hash, char const *s, size_t n, size_t step)
{
  dkim_body b;
  size_t i;
  dkim_body_init(&b, out);
  for (i = 0; i < n; i += step) dkim_body_put(&b, s + i, n - i < step ? n - i : step);
  FUZZ_ASSERT(dkim_body_end(&b, hash));
}

static void check_body(char const *s, size_t n, size_t step)
{
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO;
  unsigned char ha[32], hb[32];
  size_t i;
  body(&a, ha, s, n, n ? n : 1);
  body(&b, hb, s, n, step);
  FUZZ_ASSERT(a.len == b.len && !memcmp(a.s, b.s, a.len) && !memcmp(ha, hb, 32));
  for (i = 0; i < a.len; i++)
  {
    if (a.s[i] == '\r') FUZZ_ASSERT(i + 1 < a.len && a.s[i+1] == '\n');
    if (a.s[i] == '\n') FUZZ_ASSERT(i && a.s[i-1] == '\r' && (i < 2 || (a.s[i-2] != ' ' && a.s[i-2] != '\t')));
  }
  FUZZ_ASSERT(!a.len || (a.len >= 2 && a.s[a.len-1] == '\n'));
  FUZZ_ASSERT(a.len < 4 || memcmp(a.s + a.len - 4, "\r\n\r\n", 4));
  stralloc_free(&a);
  stralloc_free(&b);
}

static void scan(char const *s, size_t n, size_t step, size_t *hlen, size_t *bstart)
{
  dkim_hscan st = DKIM_HSCAN_ZERO, st2 = DKIM_HSCAN_ZERO;
  size_t got = 0, h2, b2;
  for (;;)
  {
    int eof = got == n;
    if (dkim_head_end(&st, s, got, eof, hlen, bstart)) break;
    FUZZ_ASSERT(!eof);
    got = n - got < step ? n : got + step;
  }
  FUZZ_ASSERT(dkim_head_end(&st2, s, n, 1, &h2, &b2) && h2 == *hlen && b2 == *bstart);
  FUZZ_ASSERT(*hlen <= *bstart && *bstart <= n);
}

static void conf(char const *s, size_t n)
{
  stralloc lines = STRALLOC_ZERO;
  dkim_rule r = DKIM_RULE_ZERO;
  char const *bad;
  size_t i;
  int count = 0;
  for (i = 0; i < n; i++)
  {
    char c = s[i] == '\n' ? 0 : s[i];
    if (!s[i]) continue;   /* control files hold no NUL */
    if (!c) count++;
    if (!stralloc_catb(&lines, &c, 1)) return;
  }
  if (!stralloc_0(&lines)) return;
  count++;
  if (dkim_conf_find(&r, lines.s, count, "a.example.org", &bad) == 1)
  {
    unsigned int k;
    FUZZ_ASSERT(dkim_name_ok(r.domain, strlen(r.domain)) && r.nsel >= 1 && r.nsel <= DKIM_MAXSEL);
    for (k = 0; k < r.nsel; k++) FUZZ_ASSERT(dkim_name_ok(r.sel[k], strlen(r.sel[k])));
  }
  dkim_rule_free(&r);
  stralloc_free(&lines);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *s = (char const *)data;
  genalloc g = GENALLOC_ZERO;
  stralloc dom = STRALLOC_ZERO, h = STRALLOC_ZERO;
  size_t hlen, bstart, i, step = size ? (size_t)(data[0] % 16) + 1 : 1;
  unsigned char hash[32];
  dkim_field const *f;
  size_t nf, end = 0;
  scan(s, size, step, &hlen, &bstart);
  FUZZ_ASSERT(dkim_head_fields(&g, s, hlen));
  f = genalloc_s(dkim_field, &g);
  nf = genalloc_len(dkim_field, &g);
  for (i = 0; i < nf; i++)
  {
    FUZZ_ASSERT(f[i].pos >= end && f[i].pos + f[i].len <= hlen && f[i].namelen && f[i].namelen <= f[i].len);
    end = f[i].pos + f[i].len;
    check_field(s + f[i].pos, f[i].len);
  }
  if (dkim_head_from(&dom, s, f, nf)) FUZZ_ASSERT(dkim_name_ok(dom.s, dom.len));
  FUZZ_ASSERT(dkim_head_hlist(&h, s, f, nf));
  FUZZ_ASSERT(dkim_head_hash(hash, s, f, nf, h.s, "DKIM-Signature: b=", 18));
  check_body(s + bstart, size - bstart, step);
  conf(s, size);
  genalloc_free(dkim_field, &g);
  stralloc_free(&dom);
  stralloc_free(&h);
  return 0;
}
