/* pw_maildir.c: the Maildir of a new account (tern-passwd add), so that it
 * can log in over POP3 or IMAP before its first message arrives.
 *
 * SECURITY: runs as the admin, often root, over directories that the local
 * delivery user owns (mail/ under the instance). That user could have put a
 * symbolic link where a component is expected: every component is opened
 * relative to its parent with O_NOFOLLOW, and a link is followed only when
 * the directory holding it is writable by root alone (its owner's choice,
 * as /home -> /srv/home). Each directory made takes the owner of the one
 * it is made in, so the Maildir belongs to whoever owns mail/ (tern-local's
 * user after make install), and is mode 700. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "pw.h"

/* Opens NAME in directory fd dir (a directory, not followed unless dir is
 * root's alone). -1 with errno (ELOOP: a link we refuse). */
static int open_in(int dir, char const *name)
{
  struct stat st;
  int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || (errno != ELOOP && errno != ENOTDIR)) return fd;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) { errno = ENOTDIR; return -1; }
  if (fstat(dir, &st) < 0) return -1;
  if (st.st_uid != 0 || (st.st_mode & 022)) { errno = ELOOP; return -1; }
  return openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Opens or makes NAME in dir; a new one gets dir's owner and mode 700.
 * *made is set when it was made. */
static int step(int dir, char const *name, int *made)
{
  struct stat st;
  int fd = open_in(dir, name);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (mkdirat(dir, name, 0700) < 0 && errno != EEXIST) return -1;
  fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  *made = 1;
  if (fstat(dir, &st) < 0 || fchmod(fd, 0700) < 0
   || (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0))
  {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int pw_maildir_make(char const *maildir, stralloc *where, int *made)
{
  stralloc comp = STRALLOC_ZERO;
  char const *p = maildir;
  int dir;
  *made = 0;
  where->len = 0;
  if (*p == '/')
  {
    if (!stralloc_cats(where, "/")) return -1;
  }
  else if (!stralloc_cats(where, tern_home()) || !stralloc_cats(where, "/")) return -1;
  if (!stralloc_0(where)) return -1;
  dir = open(where->s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  where->len--;
  /* the path's components, then cur, new and tmp inside the last one */
  for (;;)
  {
    size_t n;
    int fd, last;
    while (*p == '/') p++;
    if (!*p) break;
    n = strcspn(p, "/");
    comp.len = 0;
    if (!stralloc_catb(&comp, p, n) || !stralloc_0(&comp)
     || !stralloc_catb(where, p, n) || !stralloc_catb(where, "/", 1)) goto fail;
    p += n;
    fd = step(dir, comp.s, made);
    if (fd < 0) goto fail;
    close(dir);
    dir = fd;
    while (*p == '/') p++;
    last = !*p;
    if (last)
    {
      static char const *const sub[3] = { "cur", "new", "tmp" };
      int j;
      for (j = 0; j < 3; j++)
      {
        fd = step(dir, sub[j], made);
        if (fd < 0)
        {
          if (!stralloc_cats(where, sub[j])) errno = ENOMEM;
          goto fail;
        }
        close(fd);
      }
      break;
    }
  }
  close(dir);
  stralloc_free(&comp);
  if (!stralloc_0(where)) return -1;
  return 1;
 fail:
  {
    int e = errno;
    close(dir);
    stralloc_free(&comp);
    if (stralloc_0(where)) where->len--;
    errno = e;
  }
  return -1;
}
