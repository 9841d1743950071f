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

static ssize_t readop(void *src, char *s, size_t n, tain const *deadline)
{
  pop3_io *io = src;
  return lineread_fdread(io->in, s, n, deadline);
}

void pop3_io_init(pop3_io *io, int in, int out, int readahead, unsigned int timeout)
{
  io->in = in;
  io->out = out;
  /* without readahead, a line is never consumed past its LF: the mailbox
   * step exec'd after the login reads the next command from fd 0 */
  lineread_init(&io->rd, &readop, io, io->ibuf, sizeof io->ibuf, !readahead);
  io->timeout = timeout;
  io->olen = 0;
  ndelay_on(in);
  ndelay_on(out);
}

int pop3_getline(pop3_io *io, stralloc *sa, size_t max)
{
  tain deadline;
  int r;
  tain_now_g();
  tain_addsec_g(&deadline, io->timeout);
  r = lineread_get(&io->rd, sa, max, &deadline);
  /* an overlong line is read to its end anyway (within the same deadline),
   * so the next command starts where the client meant it to */
  if (r == LINEREAD_TOOLONG)
  {
    r = lineread_drop(&io->rd, (size_t)-1, &deadline);
    if (r == LINEREAD_OK) return POP3_LINE_LONG;
  }
  if (r == LINEREAD_EOF) return POP3_LINE_EOF;
  if (r != LINEREAD_OK) return POP3_LINE_TIMEOUT;
  sa->len--;                                   /* the LF */
  if (sa->len && sa->s[sa->len - 1] == '\r') sa->len--;
  r = memchr(sa->s, 0, sa->len) || memchr(sa->s, '\r', sa->len);
  if (!stralloc_0(sa)) return POP3_LINE_TIMEOUT;
  sa->len--;
  return r ? POP3_LINE_BAD : POP3_LINE_OK;
}

int pop3_pending(pop3_io const *io)
{
  return lineread_len(&io->rd) > 0;
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
    if (!lineread_wait(io->out, IOPAUSE_WRITE, &deadline)) return 0;
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
  lineread_skip(&io->rd, lineread_len(&io->rd));   /* its buffer is reused */
  tain_now_g();
  tain_addsec_g(&deadline, 1);
  while (total < 65536 && lineread_wait(io->in, IOPAUSE_READ, &deadline))
  {
    ssize_t r = read(io->in, io->ibuf, sizeof io->ibuf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) break;
    total += r;
  }
}
