/* logread.c: reads log lines from files and s6-log directories in bounded
 * memory (one line at a time, LOGSUM_LINE_MAX at most kept of a line). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include "control.h"
#include "logread.h"

int logread_fd(logstream *ls, int fd, int whole, uint64_t *used)
{
  static char const dummy = 0;
  char buf[8192];
  char *line = malloc(LOGSUM_LINE_MAX + 2);
  size_t len = 0;
  int toolong = 0;
  uint64_t u = 0, pending = 0;
  if (!line) return -1;
  for (;;)
  {
    ssize_t r = read(fd, buf, sizeof buf);
    ssize_t i;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { free(line); return -1; }
    if (!r) break;
    for (i = 0; i < r; i++)
    {
      pending++;
      if (buf[i] != '\n')
      {
        if (len <= LOGSUM_LINE_MAX) line[len++] = buf[i]; else toolong = 1;
        continue;
      }
      line[len] = 0;
      logsum_line(ls, toolong ? &dummy : line, toolong ? LOGSUM_LINE_MAX + 1 : len);
      len = 0;
      toolong = 0;
      u += pending;
      pending = 0;
    }
  }
  if (whole && (len || toolong))
  {
    line[len] = 0;
    logsum_line(ls, toolong ? &dummy : line, toolong ? LOGSUM_LINE_MAX + 1 : len);
    u += pending;
  }
  free(line);
  if (used) *used = u;
  return 0;
}

static int cmp(void const *a, void const *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int logread_archives(char const *dir, stralloc *names)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  stralloc tmp = STRALLOC_ZERO;
  char **v = 0;
  size_t n = 0, i, off = 0;
  if (!d) return -1;
  /* s6-log names its archives @TAI64N.s (or .u): the name sorts by time */
  while ((de = readdir(d)))
  {
    size_t l = strlen(de->d_name);
    if (de->d_name[0] != '@' || l < 3 || de->d_name[l - 2] != '.') continue;
    if (n == 100000 || !stralloc_catb(&tmp, de->d_name, l + 1)) { closedir(d); stralloc_free(&tmp); return -1; }
    n++;
  }
  closedir(d);
  v = malloc((n ? n : 1) * sizeof *v);
  if (!v) { stralloc_free(&tmp); return -1; }
  for (i = 0; i < n; i++) { v[i] = tmp.s + off; off += strlen(tmp.s + off) + 1; }
  qsort(v, n, sizeof *v, &cmp);
  names->len = 0;
  for (i = 0; i < n; i++)
    if (!stralloc_catb(names, v[i], strlen(v[i]) + 1)) { free(v); stralloc_free(&tmp); return -1; }
  free(v);
  stralloc_free(&tmp);
  return 0;
}

void logread_svcname(char const *path, int isdir, char *out, size_t max)
{
  size_t len = strlen(path), s, e;
  while (len > 1 && path[len - 1] == '/') len--;
  e = len;
  s = e;
  while (s && path[s - 1] != '/') s--;
  if (!isdir && (!strncmp(path + s, "current", e - s) || path[s] == '@') && e - s)
  {
    /* a file of an s6-log directory: that directory names the service */
    if (s > 1)
    {
      e = s - 1;
      while (e > 1 && path[e - 1] == '/') e--;
      s = e;
      while (s && path[s - 1] != '/') s--;
    }
  }
  if (e - s >= max) e = s + max - 1;
  if (e == s) { memcpy(out, "-", 2); return; }
  memcpy(out, path + s, e - s);
  out[e - s] = 0;
}

static int read_file(logstream *ls, char const *path)
{
  int r, fd = open_readb(path);
  if (fd < 0) return -1;
  r = logread_fd(ls, fd, 1, 0);
  fd_close(fd);
  return r;
}

static int read_dir(logstream *ls, char const *dir)
{
  stralloc names = STRALLOC_ZERO, p = STRALLOC_ZERO;
  size_t i;
  int r = 0;
  if (logread_archives(dir, &names) < 0) return -1;
  if (!stralloc_catb(&names, "current", 8)) { stralloc_free(&names); return -1; }
  for (i = 0; i < names.len; i += strlen(names.s + i) + 1)
  {
    p.len = 0;
    if (!stralloc_cats(&p, dir) || !stralloc_catb(&p, "/", 1) || !stralloc_cats(&p, names.s + i)
        || !stralloc_0(&p)) { r = -1; break; }
    /* an archive removed by s6-log while we list: not an error */
    if (read_file(ls, p.s) < 0 && errno != ENOENT) { r = -1; break; }
  }
  stralloc_free(&names);
  stralloc_free(&p);
  return r;
}

int logread_path(logsum *s, char const *path)
{
  struct stat st;
  char name[LOGSUM_SVCNAME];
  logstream ls = { s, 0 };
  if (!strcmp(path, "-"))
  {
    ls.svc = logsum_svc(s, "stdin");
    return logread_fd(&ls, 0, 1, 0);
  }
  if (stat(path, &st) < 0) return -1;
  logread_svcname(path, S_ISDIR(st.st_mode), name, sizeof name);
  ls.svc = logsum_svc(s, name);
  return S_ISDIR(st.st_mode) ? read_dir(&ls, path) : read_file(&ls, path);
}

int logread_home(logsum *s)
{
  stralloc dir = STRALLOC_ZERO, p = STRALLOC_ZERO;
  DIR *d;
  struct dirent *de;
  int r = 0;
  if (!tern_path(&dir, "log")) return -1;
  d = opendir(dir.s);
  if (!d) { stralloc_free(&dir); return -1; }
  while ((de = readdir(d)))
  {
    struct stat st;
    if (de->d_name[0] == '.') continue;
    p.len = 0;
    if (!stralloc_copys(&p, dir.s) || !stralloc_catb(&p, "/", 1) || !stralloc_cats(&p, de->d_name)
        || !stralloc_0(&p)) { r = -1; break; }
    if (stat(p.s, &st) < 0 || !S_ISDIR(st.st_mode)) continue;
    if (logread_path(s, p.s) < 0) { r = -1; break; }
  }
  closedir(d);
  stralloc_free(&dir);
  stralloc_free(&p);
  return r;
}
