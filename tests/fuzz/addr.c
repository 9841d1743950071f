/* Fuzz lib/addr.c: any path either fails cleanly or yields a canonical
 * address that parses again to itself, with the same domain. */
#include "fuzz.h"
#include "addr.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  addr a = ADDR_ZERO, b = ADDR_ZERO;
  size_t used = 0;
  if (addr_parse_path(&a, (char const *)data, size, &used) == ADDR_OK)
  {
    stralloc p = STRALLOC_ZERO;
    size_t u2 = 0;
    FUZZ_ASSERT(used <= size);
    FUZZ_ASSERT(strlen(a.s.s) == a.s.len);
    if (!(a.flags & ADDR_NULL))
    {
      FUZZ_ASSERT(stralloc_catb(&p, "<", 1) && stralloc_catb(&p, a.s.s, a.s.len) && stralloc_catb(&p, ">", 1));
      FUZZ_ASSERT(addr_parse_path(&b, p.s, p.len, &u2) == ADDR_OK);
      FUZZ_ASSERT(b.s.len == a.s.len && !memcmp(b.s.s, a.s.s, a.s.len));
      FUZZ_ASSERT(!strcmp(addr_domainpart(&a), addr_domainpart(&b)));
    }
    stralloc_free(&p);
  }
  addr_free(&a);
  addr_free(&b);
  return 0;
}
