/* Unit tests for lib/dataenc.c: one reading of stored line ends for every
 * output, in its SMTP form (tern-remote, POP3) and its LF form (Maildir). */
#include <skalibs/stralloc.h>
#include "tap.h"
#include "dataenc.h"

/* s[0..n) encoded in pieces of k bytes, NUL-terminated (the result holds
 * no NUL: the encoder drops them). */
static char const *enc(int lf, char const *s, size_t n, size_t k)
{
  static stralloc out = STRALLOC_ZERO;
  dataenc e;
  size_t i;
  if (lf) dataenc_init_lf(&e); else dataenc_init(&e, UINT64_MAX);
  out.len = 0;
  for (i = 0; i < n; i += k) dataenc_put(&e, s + i, n - i < k ? n - i : k, &out);
  dataenc_end(&e, &out);
  stralloc_0(&out);
  return out.s;
}

#define SMTP(s, k) enc(0, s, sizeof(s) - 1, k)
#define LF(s, k) enc(1, s, sizeof(s) - 1, k)

int main(void)
{
  size_t k;
  for (k = 1; k <= 64; k += 63)
  {
    is_str(SMTP("a\n\0.\nb\n", k), "a\r\n..\r\nb\r\n.\r\n", "NUL dropped: the NUL-dot line is stuffed (pieces of %zu)", k);
    is_str(SMTP(".\0\n\0.\0\n", k), "..\r\n..\r\n.\r\n", "dot-NUL and NUL-dot-NUL: stuffed (pieces of %zu)", k);
    is_str(SMTP("a\r.\r\nb", k), "a\r\n..\r\nb\r\n.\r\n", "a lone CR ends the line before the dot (pieces of %zu)", k);
    is_str(SMTP("a\r\0\n.\n", k), "a\r\n..\r\n.\r\n", "CR NUL LF: one line end, as a NUL-dropping reader sees it (pieces of %zu)", k);
    is_str(SMTP("\r\r\n.\r\r\n", k), "\r\n\r\n..\r\n\r\n.\r\n", "CR CR LF: two line ends (pieces of %zu)", k);
    is_str(SMTP("x\0", k), "x\r\n.\r\n", "a trailing NUL is not a line (pieces of %zu)", k);
    is_str(LF("a\r\nb\rc\0d\n\0.\n", k), "a\nb\ncd\n.\n", "LF form: CR LF and lone CR become LF, NUL dropped, no stuffing (pieces of %zu)", k);
    is_str(LF("no end", k), "no end\n", "LF form: the last line completed (pieces of %zu)", k);
    is_str(LF("a\r", k), "a\n", "LF form: a final CR is the line end (pieces of %zu)", k);
  }
  is_str(LF("", 1), "", "LF form: empty stays empty");
  is_str(LF("plain\ntext\n", 100), "plain\ntext\n", "LF form: clean text unchanged (the fast path)");
  {
    dataenc e;
    stralloc out = STRALLOC_ZERO;
    dataenc_init(&e, UINT64_MAX);
    dataenc_put(&e, "A: b\n\n.x\n..\n", 12, &out);
    dataenc_end(&e, &out);
    is_int(e.stuffed, 2, "stuffing dots counted (POP3 sizes leave them out)");
    stralloc_free(&out);
  }
  return done_testing();
}
