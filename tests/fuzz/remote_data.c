/* Fuzz tern-remote's DATA encoder: whatever the content, the output has only
 * CRLF line ends, no line that is a lone "." before the end, and ends with
 * exactly one CRLF.CRLF, so content can never end DATA early. */
#include "fuzz.h"
#include "../../remote/remote_data.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  dataenc e = DATAENC_ZERO;
  stralloc out = STRALLOC_ZERO;
  size_t half = size / 2, i, bol = 0;
  FUZZ_ASSERT(dataenc_put(&e, (char const *)data, half, &out));
  FUZZ_ASSERT(dataenc_put(&e, (char const *)data + half, size - half, &out));
  FUZZ_ASSERT(dataenc_end(&e, &out));
  FUZZ_ASSERT(out.len >= 3 && !memcmp(out.s + out.len - 3, ".\r\n", 3));
  for (i = 0; i < out.len; i++)
  {
    if (out.s[i] == '\r') FUZZ_ASSERT(i + 1 < out.len && out.s[i+1] == '\n');
    if (out.s[i] == '\n')
    {
      FUZZ_ASSERT(i > 0 && out.s[i-1] == '\r');
      /* a line that is just "." may only be the last one */
      if (i - bol == 2 && out.s[bol] == '.') FUZZ_ASSERT(i + 1 == out.len);
      bol = i + 1;
    }
  }
  stralloc_free(&out);
  return 0;
}
