/* Fuzz lib/lineread.c, the line reader of tern-smtpd, tern-pop3d and
 * tern-remote. The first four bytes choose max, the drop cap, the buffer
 * size and the one-byte mode; the rest is the peer's input, handed out in
 * reads whose sizes come from the input itself. Checked against the input:
 * every line is its next bytes, ends at its first LF and is within max; a
 * too-long line is max bytes with no LF; a drop stops just after an LF or
 * just past the cap; EOF comes only when the input is spent, with no LF
 * left; no read asks for more than the buffer, or than 1 byte in one-byte
 * mode. */
#include "fuzz.h"
#include "lineread.h"

typedef struct src_s src;
struct src_s
{
  uint8_t const *s;
  size_t n, given;
  int onebyte;
  size_t size;
};

static ssize_t op(void *p, char *s, size_t n, tain const *deadline)
{
  src *x = p;
  size_t k;
  (void)deadline;
  FUZZ_ASSERT(n >= 1 && n <= x->size);
  FUZZ_ASSERT(!x->onebyte || n == 1);
  if (x->given == x->n) return 0;
  /* a read's size: the byte it starts at, so inputs choose their splits */
  k = 1 + x->s[x->given] % 7;
  if (k > n) k = n;
  if (k > x->n - x->given) k = x->n - x->given;
  memcpy(s, x->s + x->given, k);
  x->given += k;
  return (ssize_t)k;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  static stralloc sa = STRALLOC_ZERO;
  char buf[32];
  lineread r;
  src x;
  size_t max, cap, pos = 0;
  if (size < 4) return 0;
  max = 1 + data[0] % 40;
  cap = data[1] % 40;
  x.size = 1 + data[2] % sizeof buf;
  x.onebyte = data[3] & 1;
  x.s = data + 4;
  x.n = size - 4;
  x.given = 0;
  lineread_init(&r, &op, &x, buf, x.size, x.onebyte);
  for (;;)
  {
    int g = lineread_get(&r, &sa, max, 0);
    /* what was consumed: handed out minus still buffered */
    size_t now = x.given - lineread_len(&r);
    if (x.onebyte) FUZZ_ASSERT(!lineread_len(&r));
    if (g == LINEREAD_EOF)
    {
      FUZZ_ASSERT(x.given == x.n && !lineread_len(&r));
      FUZZ_ASSERT(!memchr(x.s + pos, '\n', x.n - pos));
      return 0;
    }
    FUZZ_ASSERT(g == LINEREAD_OK || g == LINEREAD_TOOLONG);
    FUZZ_ASSERT(now - pos == sa.len && !memcmp(sa.s, x.s + pos, sa.len));
    if (g == LINEREAD_OK)
    {
      FUZZ_ASSERT(sa.len >= 1 && sa.len <= max && sa.s[sa.len - 1] == '\n');
      FUZZ_ASSERT(!memchr(sa.s, '\n', sa.len - 1));
      pos = now;
      continue;
    }
    FUZZ_ASSERT(sa.len == max && !memchr(sa.s, '\n', sa.len));
    pos = now;
    g = lineread_drop(&r, cap, 0);
    now = x.given - lineread_len(&r);
    if (g == LINEREAD_EOF)
    {
      FUZZ_ASSERT(x.given == x.n && !memchr(x.s + pos, '\n', x.n - pos));
      return 0;
    }
    if (g == LINEREAD_OK)
    {
      FUZZ_ASSERT(now > pos && now - pos <= cap + 1 && x.s[now - 1] == '\n');
      FUZZ_ASSERT(!memchr(x.s + pos, '\n', now - 1 - pos));
    }
    else
    {
      FUZZ_ASSERT(g == LINEREAD_TOOLONG && now - pos == cap + 1);
      FUZZ_ASSERT(!memchr(x.s + pos, '\n', now - pos));
    }
    pos = now;
  }
}
