/* pw_crypt.c: crypt(3) checking and hashing, constant-time comparison, wiping. */
#include <errno.h>
#include <string.h>
#include <crypt.h>
#include <skalibs/stralloc.h>
#include "pw.h"

void pw_wipe(void *p, size_t n)
{
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

int pw_equal(char const *a, size_t alen, char const *b, size_t blen)
{
  unsigned char d = alen != blen;
  size_t i, n = alen < blen ? alen : blen;
  for (i = 0; i < n; i++) d |= (unsigned char)a[i] ^ (unsigned char)b[i];
  return !d;
}

/* A setting of the default kind, made once per process: what an unknown
 * user or a locked account is checked against, to spend the same time. */
static char const *dummy_setting(char *buf, size_t len)
{
  if (crypt_gensalt_rn("$y$", 0, 0, 0, buf, (int)len)) return buf;
  if (crypt_gensalt_rn("$6$", 0, 0, 0, buf, (int)len)) return buf;
  return 0;
}

int pw_verify(char const *hash, char const *pass)
{
  struct crypt_data cd;
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  char const *out;
  int usable = hash && hash[0] && hash[0] != '!' && hash[0] != '*';
  int r;
  memset(&cd, 0, sizeof cd);
  if (!usable)
  {
    char const *s = dummy_setting(setting, sizeof setting);
    if (s) crypt_rn(pass, s, &cd, sizeof cd);
    pw_wipe(&cd, sizeof cd);
    return 0;
  }
  out = crypt_rn(pass, hash, &cd, sizeof cd);
  if (!out || out[0] == '*') { pw_wipe(&cd, sizeof cd); errno = EINVAL; return -1; }
  r = pw_equal(out, strlen(out), hash, strlen(hash));
  pw_wipe(&cd, sizeof cd);
  return r;
}

int pw_hash(stralloc *sa, char const *pass)
{
  struct crypt_data cd;
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  char const *out;
  int ok;
  if (!dummy_setting(setting, sizeof setting)) return 0;
  memset(&cd, 0, sizeof cd);
  out = crypt_rn(pass, setting, &cd, sizeof cd);
  if (!out || out[0] == '*') { pw_wipe(&cd, sizeof cd); errno = EINVAL; return 0; }
  sa->len = 0;
  ok = stralloc_cats(sa, out) && stralloc_0(sa);
  pw_wipe(&cd, sizeof cd);
  return ok;
}
