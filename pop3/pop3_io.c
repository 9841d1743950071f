/* pop3_io.c: command lines in and replies out, each bounded by a deadline. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/stralloc.h>
#include "pop3.h"

void pop3_io_init(pop3_io *io, int in, int out, int readahead, unsigned int timeout)
{
  io->in = in;
  io->out = out;
  io->readahead = readahead;
  io->timeout = timeout;
  io->pos = io->len = io->olen = 0;
  ndelay_on(in);
  ndelay_on(out);
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 not. */
int pop3_wait(int fd, short events, tain const *deadline)
{
  for (;;)
  {
    iopause_fd x = { .fd = fd, .events = events, .revents = 0 };
    int r = iopause_g(&x, 1, deadline);
    if (r < 0) { if (errno == EINTR) continue; return 0; }
    if (!r) { errno = ETIMEDOUT; return 0; }
    return 1;
  }
}

/* Refills ibuf: 1 got bytes, 0 EOF, -1 timeout or error. Without readahead,
 * one byte at a time, so a line is never consumed past its LF. */
static int fill(pop3_io *io, tain const *deadline)
{
  size_t want = io->readahead ? sizeof io->ibuf : 1;
  for (;;)
  {
    ssize_t r;
    if (!pop3_wait(io->in, IOPAUSE_READ, deadline)) return -1;
    r = read(io->in, io->ibuf, want);
    if (r > 0) { io->pos = 0; io->len = r; return 1; }
    if (!r) return 0;
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
}

int pop3_getline(pop3_io *io, stralloc *sa, size_t max)
{
  tain deadline;
  int too_long = 0, bad = 0;
  sa->len = 0;
  tain_now_g();
  tain_addsec_g(&deadline, io->timeout);
  for (;;)
  {
    char *p, *lf;
    size_t n;
    if (io->pos >= io->len)
    {
      int r = fill(io, &deadline);
      if (r <= 0) return r ? POP3_LINE_TIMEOUT : POP3_LINE_EOF;
    }
    p = io->ibuf + io->pos;
    lf = memchr(p, '\n', io->len - io->pos);
    n = lf ? (size_t)(lf - p) + 1 : io->len - io->pos;
    io->pos += n;
    /* Keep at most max bytes; an overlong line is read to its end anyway,
     * so the next command starts where the client meant it to. */
    if (!too_long)
    {
      if (sa->len + n > max) { too_long = 1; sa->len = 0; }
      else if (!stralloc_catb(sa, p, n)) return POP3_LINE_TIMEOUT;
    }
    if (lf) break;
  }
  if (too_long) return POP3_LINE_LONG;
  sa->len--;                                   /* the LF */
  if (sa->len && sa->s[sa->len - 1] == '\r') sa->len--;
  if (memchr(sa->s, 0, sa->len) || memchr(sa->s, '\r', sa->len)) bad = 1;
  if (!stralloc_0(sa)) return POP3_LINE_TIMEOUT;
  sa->len--;
  return bad ? POP3_LINE_BAD : POP3_LINE_OK;
}

int pop3_pending(pop3_io const *io)
{
  return io->pos < io->len;
}

int pop3_flush(pop3_io *io)
{
  size_t done = 0;
  tain deadline;
  tain_now_g();
  tain_addsec_g(&deadline, io->timeout);
  while (done < io->olen)
  {
    ssize_t w = write(io->out, io->obuf + done, io->olen - done);
    if (w > 0) { done += w; continue; }
    if (w < 0 && errno != EAGAIN && errno != EINTR) return 0;
    if (!pop3_wait(io->out, IOPAUSE_WRITE, &deadline)) return 0;
  }
  io->olen = 0;
  return 1;
}

int pop3_put(pop3_io *io, char const *s, size_t n)
{
  while (n)
  {
    size_t k = sizeof io->obuf - io->olen;
    if (!k) { if (!pop3_flush(io)) return 0; continue; }
    if (k > n) k = n;
    memcpy(io->obuf + io->olen, s, k);
    io->olen += k; s += k; n -= k;
  }
  return 1;
}

int pop3_puts(pop3_io *io, char const *s)
{
  return pop3_put(io, s, strlen(s));
}

int pop3_reply(pop3_io *io, char const *s)
{
  return pop3_puts(io, s) && pop3_put(io, "\r\n", 2) && pop3_flush(io);
}

void pop3_hangup(pop3_io *io)
{
  tain deadline;
  size_t total = 0;
  pop3_flush(io);
  /* Closing a socket with unread input sends a reset, and the client may
   * lose our last reply. So: say we are done, and take (and drop) what the
   * client still sends, for a moment. Pipes (under tern-tlsd) need none. */
  if (shutdown(io->out, SHUT_WR) < 0) return;
  tain_now_g();
  tain_addsec_g(&deadline, 1);
  while (total < 65536 && pop3_wait(io->in, IOPAUSE_READ, &deadline))
  {
    ssize_t r = read(io->in, io->ibuf, sizeof io->ibuf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) break;
    total += r;
  }
}
