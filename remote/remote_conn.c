/* remote_conn.c: timed, buffered I/O for tern-remote's SMTP connection. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/ip46.h>
#include "remote_conn.h"
#include "remote_tls.h"

static int fd_wait(int fd, int events, unsigned int timeout)
{
  tain deadline;
  iopause_fd x = { .fd = fd, .events = events };
  tain_now_g();
  tain_addsec_g(&deadline, timeout);
  for (;;)
  {
    int r = iopause_g(&x, 1, &deadline);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (!r) { errno = ETIMEDOUT; return -1; }
    return 1;
  }
}

ssize_t conn_fdread(int fd, char *s, size_t n, unsigned int timeout)
{
  for (;;)
  {
    ssize_t r = read(fd, s, n);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (fd_wait(fd, IOPAUSE_READ, timeout) < 0) return -1;
  }
}

ssize_t conn_fdwrite(int fd, char const *s, size_t n, unsigned int timeout)
{
  for (;;)
  {
    ssize_t r = write(fd, s, n);
    if (r > 0) return r;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (fd_wait(fd, IOPAUSE_WRITE, timeout) < 0) return -1;
  }
}

int conn_open(conn *c, ip46 const *ip, uint16_t port, unsigned int ctimeout, unsigned int timeout)
{
  tain deadline;
  c->tls = 0;
  c->rpos = c->rlen = 0;
  c->out.len = 0;
  c->timeout = timeout;
  c->err = 0;
  c->fd = socket_tcp46_nbcoe(ip46_is6(ip));
  if (c->fd < 0) { c->err = strerror(errno); return 0; }
  tain_now_g();
  tain_addsec_g(&deadline, ctimeout);
  if (!socket_deadlineconnstamp46_g(c->fd, ip, port, &deadline))
  {
    c->err = errno == ETIMEDOUT ? "connection timed out" : strerror(errno);
    fd_close(c->fd);
    c->fd = -1;
    return 0;
  }
  return 1;
}

void conn_close(conn *c)
{
  if (c->tls) rtls_free(c->tls);
  c->tls = 0;
  if (c->fd >= 0) fd_close(c->fd);
  c->fd = -1;
}

int conn_put(conn *c, char const *s, size_t n)
{
  if (!stralloc_catb(&c->out, s, n)) { c->err = "out of memory"; return 0; }
  return c->out.len < 65536 || conn_flush(c);
}

int conn_puts(conn *c, char const *s)
{
  return conn_put(c, s, strlen(s));
}

static char const *ioerr(void)
{
  return errno == ETIMEDOUT ? "timed out talking to the remote host" : strerror(errno);
}

int conn_flush(conn *c)
{
  size_t done = 0;
  if (c->tls)
  {
    int r = rtls_write(c->tls, c->out.s, c->out.len);
    c->out.len = 0;
    if (!r) { c->err = rtls_error(c->tls); return 0; }
    return 1;
  }
  while (done < c->out.len)
  {
    ssize_t r = conn_fdwrite(c->fd, c->out.s + done, c->out.len - done, c->timeout);
    if (r < 0) { c->err = ioerr(); c->out.len = 0; return 0; }
    done += (size_t)r;
  }
  c->out.len = 0;
  return 1;
}

static int fill(conn *c)
{
  ssize_t r;
  if (c->tls)
  {
    r = rtls_read(c->tls, c->rbuf, sizeof c->rbuf);
    if (r <= 0) { c->err = r ? rtls_error(c->tls) : "connection closed by the remote host"; return 0; }
  }
  else
  {
    r = conn_fdread(c->fd, c->rbuf, sizeof c->rbuf, c->timeout);
    if (r <= 0) { c->err = r ? ioerr() : "connection closed by the remote host"; return 0; }
  }
  c->rpos = 0;
  c->rlen = (size_t)r;
  return 1;
}

int conn_getline(conn *c, stralloc *line)
{
  line->len = 0;
  for (;;)
  {
    char *s = c->rbuf + c->rpos;
    size_t n = c->rlen - c->rpos;
    char *lf = memchr(s, '\n', n);
    size_t take = lf ? (size_t)(lf - s) : n;
    if (line->len + take > CONN_LINE_MAX) { c->err = "reply line too long"; return 0; }
    if (!stralloc_catb(line, s, take)) { c->err = "out of memory"; return 0; }
    if (lf)
    {
      c->rpos += take + 1;
      if (line->len && line->s[line->len - 1] == '\r') line->len--;
      return 1;
    }
    c->rpos = c->rlen;
    if (!fill(c)) return 0;
  }
}
