/* lineread.c: timed, bounded lines from a read callback (lineread.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/iopause.h>
#include "lineread.h"

void lineread_init(lineread *r, lineread_op *op, void *src, char *buf, size_t size, int onebyte)
{
  r->op = op;
  r->src = src;
  r->buf = buf;
  r->size = size;
  r->pos = r->len = 0;
  r->onebyte = onebyte;
}

int lineread_wait(int fd, short events, tain const *deadline)
{
  for (;;)
  {
    iopause_fd x = { .fd = fd, .events = events, .revents = 0 };
    int r;
    tain_now_g();   /* iopause_g counts from STAMP: it must be now */
    r = iopause_g(&x, 1, deadline);
    if (r < 0) { if (errno == EINTR) continue; return 0; }
    if (!r) { errno = ETIMEDOUT; return 0; }
    return 1;
  }
}

ssize_t lineread_fdread(int fd, char *s, size_t n, tain const *deadline)
{
  for (;;)
  {
    ssize_t r = read(fd, s, n);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (!lineread_wait(fd, IOPAUSE_READ, deadline)) return -1;
  }
}

int lineread_fill(lineread *r, tain const *deadline)
{
  ssize_t got;
  size_t want;
  if (r->pos == r->len) r->pos = r->len = 0;
  else if (r->len == r->size)
  {
    /* full of unread input: a read of 0 bytes would look like the end */
    if (!r->pos) { errno = ENOBUFS; return -1; }
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
  }
  want = r->onebyte ? 1 : r->size - r->len;
  got = (*r->op)(r->src, r->buf + r->len, want, deadline);
  if (got <= 0) return got < 0 ? -1 : 0;
  r->len += (size_t)got;
  return 1;
}

void lineread_skip(lineread *r, size_t n)
{
  r->pos += n <= lineread_len(r) ? n : lineread_len(r);
}

static int failed(int r)
{
  if (!r) return LINEREAD_EOF;
  return errno == ETIMEDOUT ? LINEREAD_TIMEOUT : LINEREAD_ERROR;
}

int lineread_get(lineread *r, stralloc *sa, size_t max, tain const *deadline)
{
  sa->len = 0;
  for (;;)
  {
    char const *s = lineread_peek(r);
    char const *lf = memchr(s, '\n', lineread_len(r));
    size_t take = lf ? (size_t)(lf - s) + 1 : lineread_len(r);
    /* max bytes in and none of them the LF: it cannot fit any more */
    if (sa->len + take > max || (!lf && sa->len + take == max))
    {
      take = max - sa->len;
      if (!stralloc_catb(sa, s, take)) return LINEREAD_ERROR;
      r->pos += take;
      return LINEREAD_TOOLONG;
    }
    if (!stralloc_catb(sa, s, take)) return LINEREAD_ERROR;
    r->pos += take;
    if (lf) return LINEREAD_OK;
    {
      int f = lineread_fill(r, deadline);
      if (f <= 0) return failed(f);
    }
  }
}

int lineread_drop(lineread *r, size_t cap, tain const *deadline)
{
  size_t n = 0;
  for (;;)
  {
    char const *s = lineread_peek(r);
    char const *lf = memchr(s, '\n', lineread_len(r));
    size_t take = lf ? (size_t)(lf - s) : lineread_len(r);
    /* the byte past the cap is read, as one past max is in get */
    if (take > cap - n) { r->pos += cap - n + 1; return LINEREAD_TOOLONG; }
    n += take;
    r->pos += take;
    if (lf) { r->pos++; return LINEREAD_OK; }
    {
      int f = lineread_fill(r, deadline);
      if (f <= 0) return failed(f);
    }
  }
}
