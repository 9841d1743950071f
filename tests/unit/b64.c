/* Unit tests for lib/b64.c: strict base64 decoding. */
#include <errno.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "b64.h"

static int dec(stralloc *sa, char const *s)
{
  sa->len = 0;
  if (!b64_decode(sa, s, strlen(s))) return 0;
  return stralloc_0(sa) ? (sa->len--, 1) : 0;
}

int main(void)
{
  stralloc sa = STRALLOC_ZERO;
  ok(dec(&sa, "") && sa.len == 0, "empty");
  ok(dec(&sa, "aGVsbG8=") && !strcmp(sa.s, "hello"), "one pad");
  ok(dec(&sa, "aGk=") && !strcmp(sa.s, "hi"), "one pad, short");
  ok(dec(&sa, "aA==") && !strcmp(sa.s, "h"), "two pads");
  ok(dec(&sa, "AGpvZQBwdw==") && sa.len == 7 && !memcmp(sa.s, "\0joe\0pw", 7), "AUTH PLAIN blob with NULs");
  ok(dec(&sa, "+/+/") && sa.len == 3, "+ and /");
  ok(!dec(&sa, "aGVsbG8") && errno == EINVAL, "length not a multiple of 4");
  ok(!dec(&sa, "aGVs bG8="), "blank inside");
  ok(!dec(&sa, "a=Vs"), "pad in the middle");
  ok(!dec(&sa, "aGk=aGk="), "pad before the end");
  ok(!dec(&sa, "aGl="), "non-zero unused bits");
  ok(!dec(&sa, "a==="), "three pads");
  ok(!dec(&sa, "aGVsbG8=\r"), "trailing CR");
  ok(!dec(&sa, "*"), "cancel marker is not base64");
  return done_testing();
}
