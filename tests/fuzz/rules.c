/* Fuzz the tcprules line parser: any line is a rule, a comment, or an error
 * with a reason; a rule's keys and value can be built. */
#include "fuzz.h"
#include "../../rules/rules_parse.h"

/* every key is a printable string (the catch-all's is empty) */
static int emit(char const *key, size_t len, void *ctx)
{
  size_t i;
  (void)ctx;
  for (i = 0; i < len; i++) FUZZ_ASSERT((unsigned char)key[i] > 32 && (unsigned char)key[i] < 127);
  return 1;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  rules_rule r = RULES_RULE_ZERO;
  char const *why = 0;
  int k = rules_parse_line(&r, (char const *)data, size, &why);
  FUZZ_ASSERT(k >= -1 && k <= 1);
  if (k < 0) FUZZ_ASSERT(why && *why);
  if (k == 1)
  {
    stralloc v = STRALLOC_ZERO;
    (void)rules_is_wide_relay(&r);
    (void)rules_keys(&r, &emit, 0);
    (void)rules_value(&r, &v);
    stralloc_free(&v);
  }
  rules_rule_free(&r);
  return 0;
}
