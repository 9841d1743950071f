/* remote_auth.c: base64 responses for AUTH PLAIN and LOGIN. */
#include <string.h>
#include "b64.h"
#include "remote_auth.h"

int auth_b64(stralloc *out, char const *s, size_t n)
{
  return b64_encode(out, s, n);
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
