/* smtp_io.c: timed, buffered line I/O on the SMTP client connection. */
#include <errno.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/unix-timed.h>
#include "lineread.h"
#include "smtp_io.h"

/* Discarding an overlong line stops after this much: a client that never
 * sends LF is not worth reading forever. */
#define SMTP_IO_DISCARD_MAX (1024 * 1024)

static ssize_t readop(void *src, char *s, size_t n, tain const *d);

void smtp_io_setfds(smtp_io *io, int fdin, int fdout)
{
  ndelay_on(fdin);
  ndelay_on(fdout);
  io->fdin = fdin;
  lineread_init(&io->in, &readop, io, io->inbuf, sizeof io->inbuf, 0);
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

/* Every read flushes the buffered replies first: the client may be
 * waiting for them before it sends more (pipelining's rule). */
static ssize_t readop(void *src, char *s, size_t n, tain const *d)
{
  smtp_io *io = src;
  ssize_t r;
  if (!smtp_io_flush(io)) return -1;   /* or it failed before */
  r = lineread_fdread(io->fdin, s, n, d);
  /* a timeout leaves the output usable, for the 421 */
  if (r < 0 && errno != ETIMEDOUT) io->failed = 1;
  return r;
}

/* Refills the input buffer: within the line's deadline while there is one
 * (smtp_io_line_start), else the timeout from now. */
static int fill(smtp_io *io)
{
  tain d, stamp;
  if (io->lined) d = io->until;
  else deadline(io, &d, &stamp);
  return lineread_fill(&io->in, &d);
}

int smtp_io_getc(smtp_io *io, char *c)
{
  if (!lineread_len(&io->in))
  {
    int r = fill(io);
    if (r <= 0) return r;
  }
  *c = *lineread_peek(&io->in);
  lineread_skip(&io->in, 1);
  return 1;
}

int smtp_io_peek(smtp_io *io, char const **s, size_t *n)
{
  if (!lineread_len(&io->in))
  {
    int r = fill(io);
    if (r <= 0) return r;
  }
  *s = lineread_peek(&io->in);
  *n = lineread_len(&io->in);
  return 1;
}

void smtp_io_skip(smtp_io *io, size_t n)
{
  lineread_skip(&io->in, n);
}

/* The line's bytes (LF included, as the reader gives it): the first bad
 * one found decides, each its own code for its own reply. */
static int classify(stralloc *sa)
{
  int bad = SMTP_LINE_OK;
  size_t n = sa->len - 1, i;
  for (i = 0; i < n && !bad; i++)
  {
    if (!sa->s[i]) bad = SMTP_LINE_NUL;
    else if (i && sa->s[i - 1] == '\r') bad = SMTP_LINE_BARECR;
  }
  if (!n || sa->s[n - 1] != '\r') bad = bad ? bad : SMTP_LINE_BARELF;
  else n--;
  sa->len = n;
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
  r = lineread_get(&io->in, sa, max, &io->until);
  if (r == LINEREAD_OK) r = classify(sa);
  else if (r == LINEREAD_TOOLONG)
  {
    /* read on to its end, so the next command starts where the client
     * meant it to; a client that never sends LF is not worth reading
     * forever */
    r = lineread_drop(&io->in, SMTP_IO_DISCARD_MAX, &io->until);
    if (r == LINEREAD_OK) r = SMTP_LINE_TOOLONG;
    else if (r == LINEREAD_TOOLONG) r = SMTP_LINE_FLOOD;
  }
  smtp_io_line_end(io);
  return r;
}

size_t smtp_io_pending(smtp_io const *io)
{
  return lineread_len(&io->in);
}

void smtp_io_discard(smtp_io *io)
{
  lineread_skip(&io->in, lineread_len(&io->in));
}

int smtp_io_early(smtp_io *io)
{
  tain now;
  if (lineread_len(&io->in)) return 1;
  if (io->failed) return 0;
  /* a deadline already passed: one read that never waits; end of file is
   * not early input (the next read sees it again). Like every read it
   * flushes the replies first: they precede the one this decides. */
  tain_now(&now);
  return lineread_fill(&io->in, &now) > 0;
}

size_t smtp_io_sample(smtp_io const *io, char *s, size_t max)
{
  size_t n = lineread_len(&io->in);
  if (n > max) n = max;
  if (n) memcpy(s, lineread_peek(&io->in), n);
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
