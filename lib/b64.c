/* b64.c: base64 (RFC 4648 section 4): strict decoding, and encoding. */
#include <errno.h>
#include "b64.h"

static int value(char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Decodes one group of four; pad is how many '=' end it (0 to 2). */
static int group(stralloc *out, char const *q, unsigned int pad)
{
  int v[4] = { 0, 0, 0, 0 };
  unsigned int i;
  char b[3];
  for (i = 0; i < 4 - pad; i++)
    if ((v[i] = value(q[i])) < 0) return 0;
  if (pad == 2 && (v[1] & 15)) return 0;
  if (pad == 1 && (v[2] & 3)) return 0;
  b[0] = (char)((v[0] << 2) | (v[1] >> 4));
  b[1] = (char)(((v[1] & 15) << 4) | (v[2] >> 2));
  b[2] = (char)(((v[2] & 3) << 6) | v[3]);
  return stralloc_catb(out, b, 3 - pad) ? 1 : -1;
}

int b64_decode(stralloc *out, char const *s, size_t len)
{
  size_t base = out->len, i;
  if (len % 4) goto bad;
  for (i = 0; i < len; i += 4)
  {
    unsigned int pad = 0;
    int r;
    if (i + 4 == len) pad = s[i+3] != '=' ? 0 : s[i+2] == '=' ? 2 : 1;
    r = group(out, s + i, pad);
    if (r < 0) { out->len = base; errno = ENOMEM; return 0; }
    if (!r) goto bad;
  }
  return 1;
 bad:
  out->len = base;
  errno = EINVAL;
  return 0;
}

int b64_encode(stralloc *out, char const *s, size_t n)
{
  static char const tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char const *u = (unsigned char const *)s;
  size_t i;
  if (!stralloc_readyplus(out, (n + 2) / 3 * 4 + 1)) return 0;
  for (i = 0; i + 2 < n; i += 3)
  {
    char q[4] = { tab[u[i] >> 2], tab[((u[i] & 3) << 4) | (u[i+1] >> 4)],
                  tab[((u[i+1] & 15) << 2) | (u[i+2] >> 6)], tab[u[i+2] & 63] };
    stralloc_catb(out, q, 4);
  }
  if (n - i == 1)
  {
    char q[4] = { tab[u[i] >> 2], tab[(u[i] & 3) << 4], '=', '=' };
    stralloc_catb(out, q, 4);
  }
  else if (n - i == 2)
  {
    char q[4] = { tab[u[i] >> 2], tab[((u[i] & 3) << 4) | (u[i+1] >> 4)], tab[(u[i+1] & 15) << 2], '=' };
    stralloc_catb(out, q, 4);
  }
  out->s[out->len] = 0;
  return 1;
}
