/* smtp_io.c: timed, buffered line I/O on the SMTP client connection. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <skalibs/djbunix.h>
#include <skalibs/unix-timed.h>
#include "smtp_io.h"

/* Discarding an overlong line stops after this much: a client that never
 * sends LF is not worth reading forever. */
#define SMTP_IO_DISCARD_MAX (1024 * 1024)

void smtp_io_setfds(smtp_io *io, int fdin, int fdout)
{
  ndelay_on(fdin);
  ndelay_on(fdout);
  buffer_init(&io->in, &buffer_read, fdin, io->inbuf, sizeof io->inbuf);
  buffer_init(&io->out, &buffer_write, fdout, io->outbuf, sizeof io->outbuf);
}

void smtp_io_init(smtp_io *io, int fdin, int fdout, unsigned int timeout)
{
  io->timeout = timeout;
  io->failed = 0;
  io->lined = 0;
  smtp_io_setfds(io, fdin, fdout);
}

static void deadline(smtp_io const *io, tain *d, tain *stamp)
{
  tain_now(stamp);
  tain_addsec(d, stamp, io->timeout);
}

int smtp_io_flush(smtp_io *io)
{
  tain d, stamp;
  if (io->failed) return 0;
  if (!buffer_len(&io->out)) return 1;
  deadline(io, &d, &stamp);
  if (!buffer_timed_flush(&io->out, &d, &stamp)) { io->failed = 1; return 0; }
  return 1;
}

/* Refills the input buffer, flushing replies first: the client may be
 * waiting for them before it sends more (pipelining's rule). */
static int fill(smtp_io *io)
{
  tain d, stamp;
  ssize_t r;
  if (io->failed) return -1;
  if (!smtp_io_flush(io)) return -1;
  deadline(io, &d, &stamp);
  if (io->lined) d = io->until;
  r = buffer_timed_fill(&io->in, &d, &stamp);
  /* a timeout leaves the output usable, for the 421 */
  if (r < 0) { if (errno != ETIMEDOUT) io->failed = 1; return -1; }
  return r > 0;
}

int smtp_io_getc(smtp_io *io, char *c)
{
  if (!buffer_len(&io->in))
  {
    int r = fill(io);
    if (r <= 0) return r;
  }
  buffer_getnofill(&io->in, c, 1);
  return 1;
}

int smtp_io_peek(smtp_io *io, char const **s, size_t *n)
{
  struct iovec v[2];
  if (!buffer_len(&io->in))
  {
    int r = fill(io);
    if (r <= 0) return r;
  }
  buffer_rpeek(&io->in, v);
  *s = v[0].iov_base;
  *n = v[0].iov_len;
  return 1;
}

void smtp_io_skip(smtp_io *io, size_t n)
{
  buffer_rseek(&io->in, n);
}

static int fail_code(smtp_io *io, int r)
{
  if (!r) return SMTP_LINE_EOF;
  return errno == ETIMEDOUT ? SMTP_LINE_TIMEOUT : SMTP_LINE_ERROR;
}

/* Reads and drops input up to the next LF. */
static int discard_line(smtp_io *io, int why)
{
  size_t n = 0;
  char c;
  for (;;)
  {
    int r = smtp_io_getc(io, &c);
    if (r <= 0) return fail_code(io, r);
    if (c == '\n') return why;
    if (++n > SMTP_IO_DISCARD_MAX) return SMTP_LINE_FLOOD;
  }
}

static int getline_(smtp_io *io, stralloc *sa, size_t max)
{
  int bad = SMTP_LINE_OK;
  char c;
  sa->len = 0;
  for (;;)
  {
    int r = smtp_io_getc(io, &c);
    if (r <= 0) return fail_code(io, r);
    if (c == '\n')
    {
      if (!sa->len || sa->s[sa->len - 1] != '\r') bad = bad ? bad : SMTP_LINE_BARELF;
      else sa->len--;
      break;
    }
    if (!c && !bad) bad = SMTP_LINE_NUL;
    if (sa->len && sa->s[sa->len - 1] == '\r' && !bad) bad = SMTP_LINE_BARECR;
    if (sa->len + 2 > max) return discard_line(io, SMTP_LINE_TOOLONG);
    if (!stralloc_catb(sa, &c, 1)) return SMTP_LINE_ERROR;
  }
  if (!stralloc_0(sa)) return SMTP_LINE_ERROR;
  sa->len--;
  return bad;
}

void smtp_io_line_start(smtp_io *io)
{
  tain stamp;
  deadline(io, &io->until, &stamp);
  io->lined = 1;
}

void smtp_io_line_end(smtp_io *io)
{
  io->lined = 0;
}

int smtp_io_getline(smtp_io *io, stralloc *sa, size_t max)
{
  int r;
  smtp_io_line_start(io);
  r = getline_(io, sa, max);
  smtp_io_line_end(io);
  return r;
}

size_t smtp_io_pending(smtp_io const *io)
{
  return buffer_len(&io->in);
}

void smtp_io_discard(smtp_io *io)
{
  buffer_rseek(&io->in, buffer_len(&io->in));
}

int smtp_io_early(smtp_io *io)
{
  if (buffer_len(&io->in)) return 1;
  if (io->failed) return 0;
  /* the fd is non-blocking: nothing there is EAGAIN, not a wait; end of
   * file is not early input (the next read sees it again) */
  return buffer_fill(&io->in) > 0;
}

size_t smtp_io_sample(smtp_io const *io, char *s, size_t max)
{
  struct iovec v[2];
  size_t n = 0, i;
  buffer_rpeek(&io->in, v);
  for (i = 0; i < 2 && n < max; i++)
  {
    size_t k = v[i].iov_len < max - n ? v[i].iov_len : max - n;
    if (k) memcpy(s + n, v[i].iov_base, k);
    n += k;
  }
  return n;
}

/* Writes into the output buffer, flushing (with the timeout) when full. */
static void put(smtp_io *io, char const *s, size_t n)
{
  tain d, stamp;
  if (io->failed) return;
  deadline(io, &d, &stamp);
  if (buffer_timed_put(&io->out, s, n, &d, &stamp) < n) io->failed = 1;
}

void smtp_io_replyv(smtp_io *io, char const *const *parts, unsigned int n)
{
  unsigned int i;
  for (i = 0; i < n; i++) put(io, parts[i], strlen(parts[i]));
  put(io, "\r\n", 2);
}

void smtp_io_reply(smtp_io *io, char const *line)
{
  smtp_io_replyv(io, &line, 1);
}
