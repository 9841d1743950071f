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

static tain *after(tain *deadline, unsigned int timeout)
{
  tain_now_g();
  tain_addsec_g(deadline, timeout);
  return deadline;
}

ssize_t conn_fdread(int fd, char *s, size_t n, unsigned int timeout)
{
  tain deadline;
  return lineread_fdread(fd, s, n, after(&deadline, timeout));
}

ssize_t conn_fdwrite(int fd, char const *s, size_t n, unsigned int timeout)
{
  for (;;)
  {
    tain deadline;
    ssize_t r = write(fd, s, n);
    if (r > 0) return r;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (!lineread_wait(fd, IOPAUSE_WRITE, after(&deadline, timeout))) return -1;
  }
}

static ssize_t readop(void *src, char *s, size_t n, tain const *deadline);

void conn_attach(conn *c, int fd, unsigned int timeout)
{
  c->fd = fd;
  c->tls = 0;
  c->out.len = 0;
  c->timeout = timeout;
  c->err = 0;
  lineread_init(&c->in, &readop, c, c->rbuf, sizeof c->rbuf, 0);
}

int conn_open(conn *c, ip46 const *ip, uint16_t port, unsigned int ctimeout, unsigned int timeout)
{
  tain deadline;
  conn_attach(c, socket_tcp46_nbcoe(ip46_is6(ip)), timeout);
  if (c->fd < 0) { c->err = strerror(errno); return 0; }
  if (!socket_deadlineconnstamp46_g(c->fd, ip, port, after(&deadline, ctimeout)))
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

/* The deadline is not the reader's: each read has its own (timeoutremote
 * per step), here or in the TLS layer. Every failure names itself. */
static ssize_t readop(void *src, char *s, size_t n, tain const *deadline)
{
  conn *c = src;
  ssize_t r;
  (void)deadline;
  if (c->tls)
  {
    r = rtls_read(c->tls, s, n);
    if (r < 0) c->err = rtls_error(c->tls);
  }
  else
  {
    r = conn_fdread(c->fd, s, n, c->timeout);
    if (r < 0) c->err = ioerr();
  }
  if (!r) c->err = "connection closed by the remote host";
  return r;
}

int conn_getline(conn *c, stralloc *line)
{
  char const *before = c->err;
  int r;
  c->err = 0;
  /* CONN_LINE_MAX without the LF; an overlong reply is refused, not skipped */
  r = lineread_get(&c->in, line, CONN_LINE_MAX + 1, 0);
  if (r == LINEREAD_OK)
  {
    c->err = before;
    line->len--;
    if (line->len && line->s[line->len - 1] == '\r') line->len--;
    return 1;
  }
  if (r == LINEREAD_TOOLONG) c->err = "reply line too long";
  else if (!c->err) c->err = "out of memory";
  return 0;
}
