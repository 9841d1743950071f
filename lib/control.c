/* control.c: reading $TERN_HOME and the qmail-style control files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "setid.h"
#include "tern_conf.h"

/* The compiled home behind "tern-home:": setup/make-install finds this
 * string in a set-id program to check that it was built for the home it is
 * being installed in (a set-id program uses no other). */
static char const home_marker[] = "tern-home:" TERN_HOME_DEFAULT;
#define HOME_DEFAULT (home_marker + 10)

char const *tern_home(void)
{
  char const *h;
  /* the caller's environment must not pick the instance of a program that
   * runs with ids the caller lacks: it would pick the queue, the tables
   * and the Maildirs that program writes (docs/security.md) */
  if (setid_secure()) return HOME_DEFAULT;
  h = getenv("TERN_HOME");
  return (h && *h) ? h : HOME_DEFAULT;
}

int tern_path(stralloc *sa, char const *name)
{
  sa->len = 0;
  return stralloc_cats(sa, tern_home()) && stralloc_catb(sa, "/", 1)
      && stralloc_cats(sa, name) && stralloc_0(sa);
}

char const *control_where(stralloc *sa, char const *name)
{
  int e = errno;
  sa->len = 0;
  if (!stralloc_cats(sa, tern_home()) || !stralloc_cats(sa, "/control/")
   || !stralloc_cats(sa, name) || !stralloc_0(sa))
  {
    errno = e;
    return name;
  }
  errno = e;
  return sa->s;
}

void control_die(int code, char const *name)
{
  stralloc sa = STRALLOC_ZERO;
  strerr_diefusys(code, "read ", control_where(&sa, name));
}

static int is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

/* Appends the trimmed, non-comment lines of buf to sa; returns the count. */
static int split_lines(stralloc *sa, char const *buf, size_t len, int firstonly)
{
  int n = 0;
  size_t i = 0;
  while (i < len)
  {
    size_t end = i, a, b;
    while (end < len && buf[end] != '\n') end++;
    a = i; b = end;
    while (a < b && is_blank(buf[a])) a++;
    while (b > a && is_blank(buf[b-1])) b--;
    i = end + 1;
    if (firstonly || (b > a && buf[a] != '#'))
    {
      if (memchr(buf + a, 0, b - a)) { errno = EINVAL; return -1; }
      if (!stralloc_catb(sa, buf + a, b - a) || !stralloc_0(sa)) return -1;
      n++;
      if (firstonly) break;
    }
  }
  return n;
}

static int readfile(stralloc *sa, char const *name, int firstonly)
{
  stralloc path = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  int r;
  if (!stralloc_cats(&path, tern_home()) || !stralloc_cats(&path, "/control/")
   || !stralloc_cats(&path, name) || !stralloc_0(&path))
  {
    stralloc_free(&path);
    return -1;
  }
  if (!openreadfileclose(path.s, &buf, 0))
  {
    int e = errno;
    stralloc_free(&path);
    stralloc_free(&buf);
    errno = e;
    return e == ENOENT ? 0 : -1;
  }
  r = split_lines(sa, buf.s, buf.len, firstonly);
  stralloc_free(&path);
  stralloc_free(&buf);
  return r;
}

int control_readline(stralloc *sa, char const *name)
{
  int r;
  sa->len = 0;
  r = readfile(sa, name, 1);
  return r < 0 ? -1 : r > 0;
}

int control_readlines(stralloc *sa, char const *name)
{
  sa->len = 0;
  return readfile(sa, name, 0);
}

int control_readlines_path(stralloc *sa, char const *path)
{
  stralloc buf = STRALLOC_ZERO;
  int r;
  sa->len = 0;
  if (!openreadfileclose(path, &buf, 0))
  {
    int e = errno;
    stralloc_free(&buf);
    errno = e;
    return e == ENOENT ? 0 : -1;
  }
  r = split_lines(sa, buf.s, buf.len, 0);
  stralloc_free(&buf);
  return r;
}

int control_readuint(unsigned int *u, char const *name, unsigned int def)
{
  stralloc sa = STRALLOC_ZERO;
  int r = control_readline(&sa, name);
  if (r < 0) { stralloc_free(&sa); return -1; }
  if (!r) { *u = def; stralloc_free(&sa); return 1; }
  {
    size_t n = uint_scan(sa.s, u);
    if (!n || sa.s[n]) { stralloc_free(&sa); errno = EINVAL; return -1; }
  }
  stralloc_free(&sa);
  return 1;
}

int control_stamp(stralloc *sa, char const *name)
{
  stralloc fn = STRALLOC_ZERO;
  struct stat st;
  if (!stralloc_cats(&fn, tern_home()) || !stralloc_cats(&fn, "/control/")
   || !stralloc_cats(&fn, name) || !stralloc_0(&fn)) { stralloc_free(&fn); return 0; }
  /* absent: all zero; a dangling symbolic link: the link's own (not
   * zero, so that a quick check stats it every time: its target may appear) */
  if (stat(fn.s, &st) < 0 && lstat(fn.s, &st) < 0) memset(&st, 0, sizeof st);
  stralloc_free(&fn);
  {
    uint64_t v[7] = { (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                      (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
                      (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec };
    return stralloc_catb(sa, (char const *)v, sizeof v);
  }
}
