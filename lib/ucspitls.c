/* ucspitls.c: the application side of UCSPI-TLS: ask tern-tlsd for TLS, read its answer, switch fds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "ucspitls.h"

#define INFO_MAX 4096

static int env_fd(char const *name, int *fd)
{
  char const *s = getenv(name);
  unsigned int u;
  if (!s || !uint0_scan(s, &u) || u < 3 || u > 1023) return 0;
  *fd = (int)u;
  return 1;
}

int ucspitls_available(ucspitls *u)
{
  if (getenv("SSL_PROTOCOL")) return 0;
  if (!env_fd("SSLCTLFD", &u->ctl) || !env_fd("SSLREADFD", &u->rfd) || !env_fd("SSLWRITEFD", &u->wfd)) return 0;
  return u->ctl != u->rfd && u->ctl != u->wfd && u->rfd != u->wfd;
}

/* 1 when info holds a whole block: entries, then an empty one. */
static int block_done(stralloc const *sa)
{
  return sa->len && !sa->s[sa->len - 1] && (sa->len == 1 || !sa->s[sa->len - 2]);
}

/* How many of the n bytes at s belong to the block that sa has begun: up to
 * and including its end (a NUL after a NUL, or a NUL first), else all n. */
static size_t block_take(stralloc const *sa, char const *s, size_t n)
{
  char prev = sa->len ? sa->s[sa->len - 1] : 0;   /* a NUL first ends it too */
  size_t i;
  for (i = 0; i < n; i++)
  {
    if (!s[i] && !prev) return i + 1;
    prev = s[i];
  }
  return n;
}

static int read_block(int fd, stralloc *sa, tain const *deadline)
{
  int peek = 1;
  while (!block_done(sa))
  {
    iopause_fd x = { .fd = fd, .events = IOPAUSE_READ, .revents = 0 };
    char buf[512];
    size_t want = INFO_MAX - sa->len;
    ssize_t r = 1;
    int p;
    if (!want) { errno = EPROTO; return 0; }
    if (want > sizeof buf) want = sizeof buf;
    p = iopause_g(&x, 1, deadline);
    if (p < 0) return 0;
    if (!p) { errno = ETIMEDOUT; return 0; }
    /* Nothing after the block is ours to take: on a socket (tern-tlsd's
     * control fd is one) look first, then read exactly up to the block's
     * end; on anything else read one byte at a time. */
    if (peek)
    {
      r = fd_recv(fd, buf, want, MSG_PEEK);
      if (r < 0 && errno == ENOTSOCK) { peek = 0; r = 1; }
      else if (r > 0) r = (ssize_t)block_take(sa, buf, (size_t)r);
    }
    if (r > 0) r = fd_read(fd, buf, (size_t)r);
    if (r < 0) return 0;
    if (!r) { errno = EPIPE; return 0; }
    if (!stralloc_catb(sa, buf, (size_t)r)) return 0;
  }
  return 1;
}

/* Every entry must be NAME=value with a sane name. */
static int apply_env(stralloc const *info)
{
  size_t i = 0;
  while (i < info->len)
  {
    char const *e = info->s + i;
    size_t n = strlen(e), eq = strcspn(e, "=");
    char name[64];
    if (eq == n || !eq || eq >= sizeof name || strncmp(e, "SSL_", 4)) { errno = EPROTO; return 0; }
    memcpy(name, e, eq); name[eq] = 0;
    if (setenv(name, e + eq + 1, 1) < 0) return 0;
    i += n + 1;
  }
  unsetenv("SSLCTLFD"); unsetenv("SSLREADFD"); unsetenv("SSLWRITEFD");
  return 1;
}

int ucspitls_start(ucspitls *u, stralloc *info, tain const *deadline)
{
  info->len = 0;
  if (fd_write(u->ctl, "Y", 1) < 1) return 0;
  if (!read_block(u->ctl, info, deadline)) goto fail;
  info->len--;  /* the empty entry that ends the block */
  if (!apply_env(info)) goto fail;
  if (coe(u->rfd) < 0 || coe(u->wfd) < 0) goto fail;
  close(u->ctl);
  u->ctl = -1;
  return 1;
 fail:
  info->len = 0;
  return 0;
}

int ucspitls_onto01(ucspitls *u)
{
  if (fd_move(0, u->rfd) < 0) return 0;
  u->rfd = 0;
  if (fd_move(1, u->wfd) < 0) return 0;
  u->wfd = 1;
  return 1;
}

void ucspitls_close(ucspitls *u)
{
  if (u->ctl > 2) close(u->ctl);
  if (u->rfd > 2) close(u->rfd);
  if (u->wfd > 2 && u->wfd != u->rfd) close(u->wfd);
  u->ctl = u->rfd = u->wfd = -1;
}

char const *ucspitls_get(stralloc const *info, char const *name)
{
  size_t n = strlen(name), i = 0;
  while (i < info->len)
  {
    char const *e = info->s + i;
    size_t len = strlen(e);
    if (len > n && e[n] == '=' && !strncmp(e, name, n)) return e + n + 1;
    i += len + 1;
  }
  return 0;
}
