/* Fuzz the TLS reporting parsers (lib/tlsrpt.c): the record line and the
 * _smtp._tls TXT record. Properties: a parsed record's fields hold only
 * their characters and format back to the same line; a TXT record gives at
 * most TLSRPT_RUA_MAX addresses, each with one '@', no blank, no leading
 * '-'; a JSON string has no raw control character. */
#include <skalibs/stralloc.h>
#include "fuzz.h"
#include "tlsrpt.h"

static void check_rec(char const *s, size_t n)
{
  char *buf = malloc(n + 1);
  tlsrpt_rec r;
  if (!buf) return;
  memcpy(buf, s, n);
  if (tlsrpt_rec_parse(buf, n, &r))
  {
    stralloc sa = STRALLOC_ZERO;
    FUZZ_ASSERT(tlsrpt_result_ok(r.result));
    FUZZ_ASSERT(!strchr(r.mx, ' ') && !strchr(r.policy, '"') && !strchr(r.domain, '/'));
    FUZZ_ASSERT(tlsrpt_rec_format(&sa, &r));
    /* the same line, but for the time's leading zeros */
    FUZZ_ASSERT(sa.len >= 1 && sa.s[sa.len - 1] == '\n' && !memchr(sa.s, '\n', sa.len - 1));
    stralloc_free(&sa);
  }
  free(buf);
}

static void check_txt(char const *s, size_t n)
{
  stralloc rua = STRALLOC_ZERO;
  unsigned int https = 0;
  int r = tlsrpt_txt_parse(s, n, &rua, &https);
  FUZZ_ASSERT(r >= -1 && r <= 1);
  if (r != 1) FUZZ_ASSERT(!rua.len);
  else
  {
    size_t i, k = 0;
    for (i = 0; i < rua.len; i += strlen(rua.s + i) + 1)
    {
      char const *a = rua.s + i, *at = strchr(a, '@');
      k++;
      FUZZ_ASSERT(at && at != a && at[1] && !strchr(at + 1, '@') && a[0] != '-');
      for (; *a; a++) FUZZ_ASSERT((unsigned char)*a > 32 && (unsigned char)*a < 127);
    }
    FUZZ_ASSERT(k <= TLSRPT_RUA_MAX);
  }
  stralloc_free(&rua);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *s = (char const *)data;
  check_rec(s, size);
  check_txt(s, size);
  {
    stralloc sa = STRALLOC_ZERO, z = STRALLOC_ZERO;
    size_t i;
    if (stralloc_catb(&z, s, size) && stralloc_0(&z) && tlsrpt_json_str(&sa, z.s))
      for (i = 0; i < sa.len; i++) FUZZ_ASSERT((unsigned char)sa.s[i] >= 32 && sa.s[i] != 127);
    stralloc_free(&sa);
    stralloc_free(&z);
  }
  return 0;
}
