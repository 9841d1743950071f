/* Fuzz the AUTH base64 decoder: a decoded answer re-encodes (tern-remote's
 * encoder) to the canonical text it came from. */
#include "fuzz.h"
#include "b64.h"
#include "../../remote/remote_auth.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  stralloc out = STRALLOC_ZERO, back = STRALLOC_ZERO;
  if (b64_decode(&out, (char const *)data, size) == 1)
  {
    FUZZ_ASSERT(out.len <= size);
    FUZZ_ASSERT(auth_b64(&back, out.s, out.len));
    FUZZ_ASSERT(back.len <= size + 4);
  }
  stralloc_free(&out);
  stralloc_free(&back);
  return 0;
}
