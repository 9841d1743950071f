/* rpt_sweep.c: removes expired MTA-STS cache entries (rpt.h). tern-remote
 * never uses them (remote_sts.c), and nothing else would remove them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/alloc.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "mtasts.h"
#include "rpt.h"

/* The cache record's bytes beyond the policy (as remote_sts.c reads it). */
#define CACHE_HEADER_MAX 128
/* A temporary file this old was left by a run that died. */
#define TMP_STALE 3600

/* Should name go? 1 yes (why), 0 no, -1 cannot tell (errno). The file is
 * read through one descriptor and its inode kept in *ino, so that one
 * renamed over it since (a fresh policy) is not removed. */
static int expired(char const *path, size_t max, uint64_t now, ino_t *ino, char const **why)
{
  char id[MTASTS_ID_MAX + 1];
  mtasts_policy p;
  uint64_t fetched;
  struct stat st;
  char *buf;
  ssize_t r;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), ret;
  if (fd < 0) return -1;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) { fd_close(fd); return 0; }
  *ino = st.st_ino;
  buf = alloc(max + 1);
  if (!buf) { fd_close(fd); return -1; }
  r = allread(fd, buf, max + 1);
  fd_close(fd);
  if (r < 0) ret = -1;
  else if ((size_t)r > max || !mtasts_cache_parse(buf, (size_t)r, id, &fetched, &p))
    ret = 1, *why = "not a valid cache record";
  else if (fetched > now) ret = 1, *why = "fetched in the future";
  else if (now - fetched >= p.max_age) ret = 1, *why = "past its max_age";
  else ret = 0;
  alloc_free(buf);
  return ret;
}

static void drop(char const *path, ino_t ino, char const *why, unsigned long *n)
{
  struct stat st;
  /* the last look before the unlink: a fresh entry renamed over it stays */
  if (lstat(path, &st) < 0 || st.st_ino != ino) return;
  if (unlink(path) < 0) { if (errno != ENOENT) strerr_warnwusys("remove ", path); return; }
  strerr_warni("removed MTA-STS cache entry ", path, ": ", why);
  (*n)++;
}

int rpt_sweep(unsigned int maxbytes, uint64_t now)
{
  stralloc dir = STRALLOC_ZERO, path = STRALLOC_ZERO;
  unsigned long gone = 0;
  char fmt[ULONG_FMT];
  struct dirent *de;
  DIR *dp;
  if (!tern_path(&dir, "mtasts")) strerr_diefu(111, "allocate");
  dp = opendir(dir.s);
  if (!dp)
  {
    int ok = errno == ENOENT;
    if (!ok) strerr_warnwusys("open ", dir.s);
    stralloc_free(&dir);
    return ok;
  }
  for (;;)
  {
    struct stat st;
    char const *why = 0;
    ino_t ino = 0;
    int r;
    errno = 0;
    de = readdir(dp);
    if (!de) break;
    if (de->d_name[0] == '.') continue;
    path.len = 0;
    if (!stralloc_copyb(&path, dir.s, dir.len - 1) || !stralloc_cats(&path, "/")
     || !stralloc_cats(&path, de->d_name) || !stralloc_0(&path)) strerr_diefu(111, "allocate");
    if (strstr(de->d_name, ".tmp."))
    {
      if (lstat(path.s, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_mtime + TMP_STALE < now)
        drop(path.s, st.st_ino, "a temporary file left behind", &gone);
      continue;
    }
    r = expired(path.s, (size_t)maxbytes + CACHE_HEADER_MAX, now, &ino, &why);
    if (r < 0) strerr_warnwusys("read ", path.s);
    else if (r) drop(path.s, ino, why, &gone);
  }
  if (errno) strerr_warnwusys("read the directory ", dir.s);
  closedir(dp);
  fmt[ulong_fmt(fmt, gone)] = 0;
  strerr_warni("MTA-STS cache: ", fmt, " expired entries removed");
  stralloc_free(&dir);
  stralloc_free(&path);
  return 1;
}
