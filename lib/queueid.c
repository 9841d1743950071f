/* queueid.c: queue IDs (check, value, time, a fresh one) and the paths
 * they name under $TERN_HOME/queue. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <skalibs/random.h>
#include "control.h"
#include "queueid.h"

static char const hex[] = "0123456789abcdef";

/* 0..15, or 16 for anything but a lowercase hex digit (upper case too:
 * an ID names a file, and two spellings must not name one message). */
static unsigned int digit(char c)
{
  if (c >= '0' && c <= '9') return (unsigned int)(c - '0');
  if (c >= 'a' && c <= 'f') return (unsigned int)(c - 'a' + 10);
  return 16;
}

int queueid_hex(char const *s)
{
  size_t i;
  for (i = 0; i < QUEUEID_LEN; i++) if (digit(s[i]) > 15) return 0;
  return 1;
}

int queueid_is(char const *s)
{
  return queueid_hex(s) && !s[QUEUEID_LEN];
}

int queueid_value(char const *s, uint64_t *v)
{
  uint64_t x = 0;
  size_t i;
  if (v) *v = 0;
  if (!s || !queueid_is(s)) return 0;
  for (i = 0; i < QUEUEID_LEN; i++) x = (x << 4) | digit(s[i]);
  if (!x) return 0;
  if (v) *v = x;
  return 1;
}

int queueid_ok(char const *s)
{
  return queueid_value(s, 0);
}

uint64_t queueid_time(char const *id)
{
  uint64_t t = 0;
  size_t i;
  for (i = 0; i < 8; i++) t = (t << 4) | (digit(id[i]) & 15);
  return t;
}

void queueid_new(char *id)
{
  uint32_t t = (uint32_t)time(0), r = random_uint32(0xffffffffU);
  int i;
  for (i = 7; i >= 0; i--) { id[i] = hex[t & 15]; t >>= 4; }
  for (i = 15; i >= 8; i--) { id[i] = hex[r & 15]; r >>= 4; }
  id[QUEUEID_LEN] = 0;
}

void queueid_bucket(char *hh, char const *id)
{
  hh[0] = id[QUEUEID_LEN - 2];
  hh[1] = id[QUEUEID_LEN - 1];
  hh[2] = 0;
}

int queueid_path(stralloc *sa, char const *dir, char const *id)
{
  size_t n = strlen(id);
  sa->len = 0;
  if (n < 2) { errno = EINVAL; return 0; }
  return stralloc_cats(sa, tern_home()) && stralloc_cats(sa, "/queue/") && stralloc_cats(sa, dir)
      && stralloc_catb(sa, "/", 1) && stralloc_catb(sa, id + n - 2, 2) && stralloc_catb(sa, "/", 1)
      && stralloc_cats(sa, id) && stralloc_0(sa);
}

int queueid_exists(char const *dir, char const *id)
{
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  int r = strlen(id) == QUEUEID_LEN && queueid_path(&p, dir, id) && stat(p.s, &st) == 0;
  stralloc_free(&p);
  return r;
}

/* One directory: queue/SUB/HH (hh < 256), or queue/SUB itself (hh 256). */
static void each_dir(stralloc *dir, char const *sub, unsigned int hh, queueid_each_fn *fn, void *data)
{
  DIR *d;
  struct dirent *de;
  if (!tern_path(dir, "queue/")) return;
  dir->len--;
  if (!stralloc_cats(dir, sub)) return;
  if (hh < 256 && (!stralloc_catb(dir, "/", 1) || !stralloc_catb(dir, hex + (hh >> 4), 1)
                   || !stralloc_catb(dir, hex + (hh & 15), 1))) return;
  if (!stralloc_0(dir)) return;
  d = opendir(dir->s);
  if (!d) return;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.') fn(dir->s, de->d_name, data);
  closedir(d);
}

void queueid_each(char const *sub, int flat, queueid_each_fn *fn, void *data)
{
  stralloc dir = STRALLOC_ZERO;
  unsigned int h;
  if (flat) each_dir(&dir, sub, 256, fn, data);
  else for (h = 0; h < 256; h++) each_dir(&dir, sub, h, fn, data);
  stralloc_free(&dir);
}

void queueid_each_bucket(char const *sub, unsigned int hh, queueid_each_fn *fn, void *data)
{
  stralloc dir = STRALLOC_ZERO;
  if (hh < 256) each_dir(&dir, sub, hh, fn, data);
  stralloc_free(&dir);
}
