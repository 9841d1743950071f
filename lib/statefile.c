/* statefile.c: the scheduler's durable per-recipient records. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "statefile.h"

int statefile_fmt(stralloc *sa, char status, size_t idx, uint64_t when, char const *text)
{
  char fmt[UINT64_FMT];
  size_t start, n = strlen(text);
  if (n > 1000) n = 1000;
  if (!stralloc_catb(sa, &status, 1) || !stralloc_catb(sa, " ", 1)
   || !stralloc_catb(sa, fmt, uint64_fmt(fmt, (uint64_t)idx)) || !stralloc_catb(sa, " ", 1)
   || !stralloc_catb(sa, fmt, uint64_fmt(fmt, when)) || !stralloc_catb(sa, " ", 1)) return 0;
  start = sa->len;
  if (!stralloc_catb(sa, text, n)) return 0;
  for (; start < sa->len; start++)
    if ((unsigned char)sa->s[start] < 32 || sa->s[start] == 127) sa->s[start] = '?';
  return stralloc_catb(sa, "\n", 1);
}

int statefile_sync_parent(char const *path)
{
  char const *slash = strrchr(path, '/');
  char dir[4096];
  int fd, r;
  size_t n = slash ? (size_t)(slash - path) : 1;
  if (n >= sizeof dir) { errno = ENAMETOOLONG; return -1; }
  if (slash) memcpy(dir, path, n); else dir[0] = '.';
  dir[n] = 0;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  r = fd_sync(fd);
  fd_close(fd);
  return r;
}

int statefile_append(char const *path, char const *s, size_t n)
{
  int created = 0, fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
  {
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT)
    {
      /* the HH bucket does not exist yet */
      char dir[4096];
      char const *slash = strrchr(path, '/');
      size_t dn = slash ? (size_t)(slash - path) : 0;
      if (dn && dn < sizeof dir)
      {
        memcpy(dir, path, dn); dir[dn] = 0;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) return -1;
        statefile_sync_parent(dir);
      }
      fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    created = 1;
  }
  if (fd < 0) return -1;
  if (allwrite(fd, s, n) < n || fd_sync(fd) < 0) { int e = errno; fd_close(fd); errno = e; return -1; }
  fd_close(fd);
  return created ? (statefile_sync_parent(path) < 0 ? -1 : 1) : 1;
}

/* Parses "S idx time text" (no newline). 1 ok, 0 malformed. */
static int parse_line(char const *s, size_t n, char *st, uint64_t *idx, uint64_t *when, size_t *textoff)
{
  size_t i = 2, k;
  if (n < 6 || s[1] != ' ' || !strchr("KDZBW", s[0])) return 0;
  *st = s[0];
  k = uint64_scan(s + i, idx);
  if (!k || i + k >= n || s[i + k] != ' ') return 0;
  i += k + 1;
  k = uint64_scan(s + i, when);
  if (!k || i + k >= n || s[i + k] != ' ') return 0;
  *textoff = i + k + 1;
  return 1;
}

int statefile_read(char const *path, staterc *r, size_t n, stralloc *texts, int *bounced)
{
  stralloc buf = STRALLOC_ZERO;
  size_t i = 0, j;
  *bounced = 0;
  for (j = 0; j < n; j++) { r[j].status = 0; r[j].tries = 0; r[j].last = 0; r[j].text = (size_t)-1; }
  if (!openreadfileclose(path, &buf, 0)) return errno == ENOENT ? 0 : -1;
  for (;;)
  {
    char const *s = buf.s + i;
    char const *nl = i < buf.len ? memchr(s, '\n', buf.len - i) : 0;
    char st;
    uint64_t idx, when;
    size_t toff;
    if (!nl) break;
    if (parse_line(s, (size_t)(nl - s), &st, &idx, &when, &toff))
    {
      if (st == 'B') *bounced |= STATEFILE_BOUNCED;
      else if (st == 'W') *bounced |= STATEFILE_WARNED;
      else if (idx < n)
      {
        staterc *x = r + idx;
        x->status = st;
        x->last = when;
        if (st == 'Z') x->tries++;
        /* K texts too: a success report tells what the next hop said */
        x->text = texts->len;
        if (!stralloc_catb(texts, s + toff, (size_t)(nl - s) - toff) || !stralloc_0(texts))
        { stralloc_free(&buf); return -1; }
      }
    }
    i = (size_t)(nl - buf.s) + 1;
  }
  stralloc_free(&buf);
  return 1;
}
