/* Fuzz the encoder of every output path (lib/dataenc.h): tern-remote's DATA
 * and POP3 RETR/TOP (the SMTP form), Maildir files (the LF form). Whatever
 * the stored bytes (NUL, lone CR, CR LF, dots anywhere):
 * - SMTP form: only CR LF line ends, no NUL, exactly one CRLF.CRLF at the
 *   end, and no reader that drops NULs or ends lines at a bare CR or LF
 *   sees an end of data before it (lax.h); undone by a strict reader, the
 *   text is the input read one way (NUL dropped, LF, CR LF and a lone CR
 *   each one line end). With a TOP limit the same, cut after N body lines.
 * - LF form: the same text with LF line ends, no NUL, no CR.
 * The first input byte picks the TOP limit (255: none); the rest is the
 * stored message, fed in two pieces. */
#include "fuzz.h"
#include "lax.h"
#include "dataenc.h"

/* The input read one way, LF line ends, the last line completed. */
LAX_NOCOV static void canon(char const *s, size_t n, stralloc *out)
{
  size_t i;
  int cr = 0;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    if (!c) continue;
    if (c == '\n' && cr) { cr = 0; continue; }
    cr = c == '\r';
    FUZZ_ASSERT(stralloc_catb(out, c == '\r' ? "\n" : &c, 1));
  }
  if (out->len && out->s[out->len - 1] != '\n') FUZZ_ASSERT(stralloc_catb(out, "\n", 1));
}

/* A strict reader's text of an SMTP-form stream, LF line ends. */
LAX_NOCOV static void unstuff(char const *s, size_t n, stralloc *out)
{
  size_t i = 0;
  while (i < n)
  {
    char const *nl = memchr(s + i, '\n', n - i);
    size_t len = (size_t)(nl - (s + i)) - 1;   /* without CR LF */
    char const *l = s + i;
    i += len + 2;
    if (len == 1 && l[0] == '.') { FUZZ_ASSERT(i == n); return; }
    if (len && l[0] == '.') { l++; len--; }
    FUZZ_ASSERT(stralloc_catb(out, l, len) && stralloc_catb(out, "\n", 1));
  }
  FUZZ_ASSERT(!"no end");
}

/* The first lines of text: the header, its empty line, max body lines. */
LAX_NOCOV static size_t top(char const *s, size_t n, unsigned int max)
{
  size_t i = 0;
  int body = 0;
  unsigned int lines = 0;
  while (i < n)
  {
    char const *nl = memchr(s + i, '\n', n - i);
    size_t len = (size_t)(nl - (s + i));
    if (body && lines++ >= max) break;
    if (!len) body = 1;
    i += len + 1;
  }
  return i;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  dataenc e;
  stralloc out = STRALLOC_ZERO, want = STRALLOC_ZERO, got = STRALLOC_ZERO;
  char const *s = (char const *)data + 1;
  size_t n, half, i;
  unsigned int max;
  if (!size) return 0;
  max = data[0];
  n = size - 1;
  half = n / 2;
  canon(s, n, &want);

  dataenc_init(&e, max == 255 ? UINT64_MAX : max);
  FUZZ_ASSERT(dataenc_put(&e, s, half, &out) && dataenc_put(&e, s + half, n - half, &out) && dataenc_end(&e, &out));
  FUZZ_ASSERT(out.len >= 3 && !memcmp(out.s + out.len - 3, ".\r\n", 3));
  for (i = 0; i < out.len; i++)
  {
    FUZZ_ASSERT(out.s[i]);
    if (out.s[i] == '\r') FUZZ_ASSERT(i + 1 < out.len && out.s[i+1] == '\n');
    if (out.s[i] == '\n') FUZZ_ASSERT(i > 0 && out.s[i-1] == '\r');
  }
  lax_check(out.s, out.len);
  unstuff(out.s, out.len, &got);
  n = max == 255 ? want.len : top(want.s, want.len, max);
  FUZZ_ASSERT(got.len == n && (!n || !memcmp(got.s, want.s, n)));

  out.len = 0;
  dataenc_init_lf(&e);
  FUZZ_ASSERT(dataenc_put(&e, s, half, &out) && dataenc_put(&e, s + half, size - 1 - half, &out) && dataenc_end(&e, &out));
  FUZZ_ASSERT(out.len == want.len && (!out.len || !memcmp(out.s, want.s, out.len)));
  stralloc_free(&out);
  stralloc_free(&want);
  stralloc_free(&got);
  return 0;
}
