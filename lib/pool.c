/* pool.c: the pool records and a worker's side of them (pool.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/env.h>
#include <skalibs/types.h>
#include "jobmsg.h"
#include "pool.h"

extern char **environ;

int pool_conn_parse(char const *s, size_t n, size_t *vars)
{
  size_t i = 1, k = 0;
  *vars = 0;
  if (!n || n > POOL_REC_MAX || s[0] != 'C') return 0;
  if (n > 1 && s[n - 1]) return 0;   /* the last change must be ended */
  while (i < n)
  {
    size_t len = strlen(s + i);
    if (!len || s[i] == '=' || ++k > POOL_ENV_VARS + POOL_TLS_VARS) return 0;
    i += len + 1;
  }
  *vars = k;
  return 1;
}

/* fd 0 and 1 on /dev/null: the numbers stay taken between sessions, and a
 * stray write goes nowhere instead of into the next client's connection. */
static int null01(void)
{
  int fd = open("/dev/null", O_RDWR);
  if (fd < 0) return -1;
  if ((fd != 0 && dup2(fd, 0) < 0) || (fd != 1 && dup2(fd, 1) < 0)) { int e = errno; if (fd > 1) close(fd); errno = e; return -1; }
  if (fd > 1) close(fd);
  return 0;
}

int poolworker_init(poolworker *w)
{
  size_t n = 0, i;
  char const *x = getenv("TERN_POOL");
  w->ctl = -1;
  w->sessions = 0;
  if (!x || !*x) return 0;
  w->ctl = fcntl(0, F_DUPFD_CLOEXEC, 3);
  if (w->ctl < 0) return -1;
  if (null01() < 0) return -1;
  while (environ[n]) n++;
  w->base = malloc(sizeof(char const *) * (n + 1));
  if (!w->base) return -1;
  for (i = 0; i < n; i++)
    if (strncmp(environ[i], "TERN_POOL=", 10)) w->base[w->basen++] = environ[i];
  w->base[w->basen] = 0;
  environ = (char **)w->base;
  return 1;
}

/* The session's environment: the startup one merged with the record. */
static int setenv_rec(poolworker *w, size_t vars)
{
  size_t max = w->basen + vars + 1;
  char const **v = malloc(sizeof(char const *) * max);
  if (!v) return -1;
  if (!env_merge(v, max, w->base, w->basen, w->rec.s + 1, w->rec.len - 1)) { free(v); errno = ENOMEM; return -1; }
  environ = (char **)v;
  free(w->envv);
  w->envv = v;
  return 0;
}

int poolworker_setenv(poolworker *w, char const *name, char const *value)
{
  size_t vars;
  if (w->ctl < 0) return setenv(name, value, 1);
  /* the change goes into this session's record, which the next session's
   * replaces: the worker's memory does not grow with its sessions, as it
   * does with glibc's setenv (it keeps every string it was ever given) */
  if (!stralloc_cats(&w->rec, name) || !stralloc_catb(&w->rec, "=", 1) || !stralloc_cats(&w->rec, value)
   || !stralloc_0(&w->rec)) return -1;
  if (!pool_conn_parse(w->rec.s, w->rec.len, &vars)) { errno = EINVAL; return -1; }
  return setenv_rec(w, vars);
}

/* "NAME=fd\0" appended to the record (4 fds: UCSPI-TLS's). */
static int rec_fd(stralloc *sa, char const *name, int fd)
{
  char fmt[INT_FMT];
  fmt[int_fmt(fmt, fd)] = 0;
  return stralloc_cats(sa, name) && stralloc_catb(sa, "=", 1) && stralloc_cats(sa, fmt) && stralloc_catb(sa, "", 1);
}

static void close_all(int const *fds, unsigned int n)
{
  unsigned int i;
  for (i = 0; i < n; i++) close(fds[i]);
}

int poolworker_next(poolworker *w)
{
  ssize_t r;
  size_t vars;
  int fds[4];
  unsigned int nfds;
  if (w->sessions)
  {
    if (null01() < 0) return -1;
    environ = (char **)w->base;
    if (jobmsg_send(w->ctl, "I", 1, -1) < 0) return errno == EPIPE ? 0 : -1;
  }
  if (!stralloc_ready(&w->rec, POOL_REC_MAX)) return -1;
  r = jobmsg_recvv(w->ctl, w->rec.s, POOL_REC_MAX, fds, &nfds, 4);
  if (r <= 0) return r < 0 && errno != ECONNRESET ? -1 : 0;
  w->rec.len = (size_t)r;
  if (nfds == 3 || !nfds || !pool_conn_parse(w->rec.s, w->rec.len, &vars))
  {
    close_all(fds, nfds);
    errno = EPROTO;
    return -1;
  }
  if (nfds == 4)
  {
    if (!rec_fd(&w->rec, "SSLCTLFD", fds[1]) || !rec_fd(&w->rec, "SSLREADFD", fds[2]) || !rec_fd(&w->rec, "SSLWRITEFD", fds[3]))
    { close_all(fds, nfds); return -1; }
    vars += 3;
  }
  if (setenv_rec(w, vars) < 0 || dup2(fds[0], 0) < 0 || dup2(fds[nfds == 2], 1) < 0) { close_all(fds, nfds); return -1; }
  close(fds[0]);
  if (nfds == 2) close(fds[1]);
  w->sessions++;
  return 1;
}
