/* maildir.c: unique names and crash-safe delivery into a Maildir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
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

/* Opens name below parent (AT_FDCWD: an absolute path) as a directory,
 * following no symbolic link in its last component, and checks by the
 * descriptor that it is ours: owned by our effective uid, writable by no
 * one else (by the group only when it is our effective gid). -1 with errno
 * ELOOP (a symbolic link or not a directory) or EPERM (not ours). */
static int dir_open(int parent, char const *name)
{
  struct stat st;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
  {
    if (errno == ENOTDIR) errno = ELOOP;
    return -1;
  }
  if (fstat(fd, &st) < 0) { fd_close(fd); return -1; }
  if (st.st_uid != geteuid() || (st.st_mode & S_IWOTH)
   || ((st.st_mode & S_IWGRP) && st.st_gid != getegid()))
  {
    fd_close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

/* The Maildir itself: dir without its trailing slashes (a trailing slash
 * would make the last component's symbolic link followed). */
static int maildir_open(char const *dir)
{
  stralloc sa = STRALLOC_ZERO;
  size_t n = strlen(dir);
  int fd, e;
  while (n > 1 && dir[n-1] == '/') n--;
  if (!stralloc_catb(&sa, dir, n) || !stralloc_0(&sa)) return -1;
  fd = dir_open(AT_FDCWD, sa.s);
  e = errno;
  stralloc_free(&sa);
  errno = e;
  return fd;
}

/* The file goes into tmp/, is written and fsync'd, then renamed into new/:
 * all relative to descriptors of directories checked once, so a directory
 * swapped for a symbolic link meanwhile (by whoever may write the parent
 * of the Maildir) changes nothing. */
int maildir_deliver(char const *dir, char const *hdr, size_t hdrlen,
                    int fd, uint64_t msglen, stralloc *name, char const **what)
{
  int md = -1, tmp = -1, new = -1, out = -1, r = -1, e;
  *what = "create a unique name";
  if (!maildir_uniq(name)) goto end;
  *what = "open the Maildir";
  if ((md = maildir_open(dir)) < 0) goto end;
  *what = "open the Maildir's tmp/";
  if ((tmp = dir_open(md, "tmp")) < 0) goto end;
  *what = "open the Maildir's new/";
  if ((new = dir_open(md, "new")) < 0) goto end;
  *what = "create a file in the Maildir's tmp/";
  out = openat(tmp, name->s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) goto end;
  *what = "write into the Maildir";
  if (allwrite(out, hdr, hdrlen) < hdrlen || maildir_copy(out, fd, msglen) < 0) goto fail;
  *what = "sync the Maildir file";
  if (fd_sync(out) < 0) goto fail;
  r = close(out);
  out = -1;
  if (r < 0) { r = -1; goto fail; }
  r = -1;
  *what = "move the file into the Maildir's new/";
  if (renameat(tmp, name->s, new, name->s) < 0) goto fail;
  *what = "sync the Maildir's new/";
  /* A failed sync here is reported as temporary: the copy may be delivered
   * again, which the at-least-once rule allows. */
  r = fd_sync(new) < 0 ? -1 : 1;
  goto end;
 fail:
  e = errno;
  if (out >= 0) fd_close(out);
  unlinkat(tmp, name->s, 0);
  errno = e;
 end:
  e = errno;
  if (new >= 0) fd_close(new);
  if (tmp >= 0) fd_close(tmp);
  if (md >= 0) fd_close(md);
  errno = e;
  return r;
}
