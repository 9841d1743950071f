/* maildir.c: unique names and crash-safe delivery into a Maildir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "dataenc.h"
#include "maildir.h"

int maildir_uniq(stralloc *sa)
{
  static unsigned int count = 0;
  struct timeval tv;
  char host[256];
  char fmt[UINT64_FMT];
  size_t i;
  gettimeofday(&tv, 0);
  if (gethostname(host, sizeof host - 1) < 0) strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  sa->len = 0;
  if (!stralloc_catb(sa, fmt, uint64_fmt(fmt, (uint64_t)tv.tv_sec))
   || !stralloc_cats(sa, ".M") || !stralloc_catb(sa, fmt, uint64_fmt(fmt, (uint64_t)tv.tv_usec))
   || !stralloc_cats(sa, "P") || !stralloc_catb(sa, fmt, uint64_fmt(fmt, (uint64_t)getpid()))
   || !stralloc_cats(sa, "Q") || !stralloc_catb(sa, fmt, uint64_fmt(fmt, (uint64_t)++count))
   || !stralloc_cats(sa, ".")) return 0;
  for (i = 0; host[i]; i++)
  {
    char const *esc = host[i] == '/' ? "\\057" : host[i] == ':' ? "\\072" : 0;
    if (esc ? !stralloc_cats(sa, esc) : !stralloc_catb(sa, host + i, 1)) return 0;
  }
  return stralloc_0(sa);
}

int maildir_copy(int out, int fd, uint64_t n)
{
  char buf[65536];
  stralloc sa = STRALLOC_ZERO;
  dataenc e;
  off_t off = 0;
  int ret = -1;
  dataenc_init_lf(&e);
  while ((uint64_t)off < n)
  {
    size_t want = n - (uint64_t)off < sizeof buf ? (size_t)(n - (uint64_t)off) : sizeof buf;
    ssize_t r = pread(fd, buf, want, off);
    if (r < 0) { if (errno == EINTR) continue; goto end; }
    if (!r) { errno = EPROTO; goto end; }
    sa.len = 0;
    if (!dataenc_put(&e, buf, (size_t)r, &sa)) goto end;
    if (allwrite(out, sa.s, sa.len) < sa.len) goto end;
    off += r;
  }
  sa.len = 0;
  if (!dataenc_end(&e, &sa) || allwrite(out, sa.s, sa.len) < sa.len) goto end;
  ret = 1;
 end:
  stralloc_free(&sa);
  return ret;
}

static int dir_sync(char const *path)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  int r;
  if (fd < 0) return -1;
  r = fd_sync(fd);
  fd_close(fd);
  return r;
}

int maildir_deliver(char const *dir, char const *hdr, size_t hdrlen,
                    int fd, uint64_t msglen, stralloc *name, char const **what)
{
  stralloc tmp = STRALLOC_ZERO, new = STRALLOC_ZERO;
  int out = -1, r = -1, e;
  *what = "create a unique name";
  if (!maildir_uniq(name)) goto end;
  if (!stralloc_cats(&tmp, dir) || !stralloc_cats(&tmp, "tmp/") || !stralloc_cats(&tmp, name->s)
   || !stralloc_0(&tmp)) goto end;
  if (!stralloc_cats(&new, dir) || !stralloc_cats(&new, "new/") || !stralloc_0(&new)) goto end;
  *what = "create a file in the Maildir's tmp/";
  out = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) goto end;
  *what = "write into the Maildir";
  if (allwrite(out, hdr, hdrlen) < hdrlen || maildir_copy(out, fd, msglen) < 0) goto fail;
  *what = "sync the Maildir file";
  if (fd_sync(out) < 0) goto fail;
  r = close(out);
  out = -1;
  if (r < 0) goto fail;
  r = -1;
  {
    size_t dirlen = new.len;   /* "DIR/new/" and its NUL */
    new.len--;
    *what = "move the file into the Maildir's new/";
    if (!stralloc_cats(&new, name->s) || !stralloc_0(&new)) goto fail;
    if (rename(tmp.s, new.s) < 0) goto fail;
    new.s[dirlen - 1] = 0;
  }
  *what = "sync the Maildir's new/";
  /* A failed sync here is reported as temporary: the copy may be delivered
   * again, which the at-least-once rule allows. */
  r = dir_sync(new.s) < 0 ? -1 : 1;
  goto end;
 fail:
  e = errno;
  if (out >= 0) fd_close(out);
  unlink(tmp.s);
  errno = e;
 end:
  e = errno;
  stralloc_free(&tmp);
  stralloc_free(&new);
  errno = e;
  return r;
}
