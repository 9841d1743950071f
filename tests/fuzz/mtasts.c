/* Fuzz the MTA-STS parsers (lib/mtasts.c): TXT record, HTTP response,
 * policy, cache record. Properties: a parsed policy holds only valid,
 * lowercase patterns within bounds; a body lies inside the input; a policy
 * written to the cache parses back the same. */
#include <skalibs/stralloc.h>
#include "fuzz.h"
#include "mtasts.h"

static void check_policy(mtasts_policy const *p)
{
  unsigned int i;
  FUZZ_ASSERT(p->mode >= MTASTS_NONE && p->mode <= MTASTS_ENFORCE);
  FUZZ_ASSERT(p->max_age <= MTASTS_MAXAGE_MAX);
  FUZZ_ASSERT(p->nmx <= MTASTS_MX_MAX);
  FUZZ_ASSERT(p->mode == MTASTS_NONE || p->nmx > 0);
  for (i = 0; i < p->nmx; i++)
  {
    size_t l = strnlen(p->mx[i], sizeof p->mx[i]), k;
    FUZZ_ASSERT(l > 0 && l < sizeof p->mx[i]);
    for (k = 0; k < l; k++)
    {
      FUZZ_ASSERT(!(p->mx[i][k] >= 'A' && p->mx[i][k] <= 'Z'));
      FUZZ_ASSERT(p->mx[i][k] != '*' || k == 0);
    }
    FUZZ_ASSERT(mtasts_mx_match(p->mx[i], p->mx[i][0] == '*' ? "x" : p->mx[i]) == (p->mx[i][0] != '*'));
  }
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *s = (char const *)data, *why;
  char id[MTASTS_ID_MAX + 1], id2[MTASTS_ID_MAX + 1];
  size_t off, len;
  uint64_t t;
  mtasts_policy p, q;
  int r = mtasts_txt_parse(s, size, id);
  FUZZ_ASSERT(r >= -1 && r <= 1);
  if (r == 1) FUZZ_ASSERT(strlen(id) >= 1 && strlen(id) <= MTASTS_ID_MAX);
  if (mtasts_http_body(s, size, &off, &len, &why)) FUZZ_ASSERT(off <= size && len <= size - off);
  if (mtasts_policy_parse(s, size, &p, &why))
  {
    stralloc sa = STRALLOC_ZERO;
    check_policy(&p);
    FUZZ_ASSERT(mtasts_cache_format(&sa, "fuzz", 42, s, size));
    FUZZ_ASSERT(mtasts_cache_parse(sa.s, sa.len, id2, &t, &q) && t == 42 && !strcmp(id2, "fuzz"));
    FUZZ_ASSERT(q.mode == p.mode && q.max_age == p.max_age && q.nmx == p.nmx);
    stralloc_free(&sa);
  }
  if (mtasts_cache_parse(s, size, id2, &t, &q)) check_policy(&q);
  return 0;
}
