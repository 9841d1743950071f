/* cdbwrite.c: atomic replacement of a cdb (write tmp, fsync, rename, fsync dir). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/cdbmake.h>
#include <skalibs/genalloc.h>
#include <skalibs/diuint32.h>
#include "cdbwrite.h"

int cdbwrite_start(cdbwrite *w, char const *target, char const *tmp, mode_t mode)
{
  cdbwrite zero = CDBWRITE_ZERO;
  *w = zero;
  w->target = target;
  w->tmp = tmp;
  w->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (w->fd < 0) return 0;
  /* an old tmp file may have other permissions, and umask must not widen
     or narrow what the caller asked for (passwd.cdb is 0600) */
  if (fchmod(w->fd, mode) < 0 || !cdbmake_start(&w->maker, w->fd))
  {
    cdbwrite_abort(w);
    return 0;
  }
  return 1;
}

int cdbwrite_add(cdbwrite *w, char const *key, size_t klen, char const *data, size_t dlen)
{
  if (w->fd < 0) return (errno = EBADF, 0);
  if (klen > UINT_MAX / 2 || dlen > UINT_MAX / 2) return (errno = EOVERFLOW, 0);
  return cdbmake_add(&w->maker, key, klen, data, dlen);
}

/* fsync the directory holding path, so the rename itself is durable. */
static int sync_dir_of(char const *path)
{
  char const *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path) : 1;
  char dir[n + 1];
  int fd, r;
  if (!slash) dir[0] = '.';
  else if (!n) { dir[0] = '/'; n = 1; }
  else memcpy(dir, path, n);
  dir[n] = 0;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  r = fsync(fd);
  close(fd);
  return r == 0 || errno == EINVAL;
}

int cdbwrite_finish(cdbwrite *w)
{
  int fd = w->fd;
  if (fd < 0) return (errno = EBADF, 0);
  if (!cdbmake_finish(&w->maker) || fsync(fd) < 0) goto fail;
  w->fd = -1;
  if (close(fd) < 0) { w->fd = -2; goto fail; }
  if (rename(w->tmp, w->target) < 0) { w->fd = -2; goto fail; }
  return sync_dir_of(w->target);
fail:
  cdbwrite_abort(w);
  return 0;
}

void cdbwrite_abort(cdbwrite *w)
{
  int e = errno;
  if (w->fd >= 0) close(w->fd);
  if (w->fd != -1 && w->tmp) unlink(w->tmp);
  genalloc_free(diuint32, &w->maker.hplist);
  w->fd = -1;
  errno = e;
}
