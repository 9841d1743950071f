/* remote_auth.c: base64 responses for AUTH PLAIN and LOGIN. */
#include <string.h>
#include "remote_auth.h"

int auth_b64(stralloc *out, char const *s, size_t n)
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

int auth_plain(stralloc *out, char const *user, char const *pass)
{
  stralloc raw = STRALLOC_ZERO;
  int r = stralloc_catb(&raw, "", 1) && stralloc_cats(&raw, user) && stralloc_catb(&raw, "", 1)
       && stralloc_cats(&raw, pass) && auth_b64(out, raw.s, raw.len);
  /* The buffer held the password: wipe it before handing it back. */
  if (raw.s) memset(raw.s, 0, raw.a);
  stralloc_free(&raw);
  return r;
}
