/* smtp_io.h: the client connection of tern-smtpd: buffered, timed input and
 * output. Replies are buffered (so pipelined commands are answered in one
 * write, in order) and flushed before we ever block waiting for input.
 * The TLS layer replaces the fds (smtp_io_setfds) after dropping whatever
 * plaintext is buffered (smtp_io_pending / smtp_io_discard). */
#ifndef TERN_SMTP_IO_H
#define TERN_SMTP_IO_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "lineread.h"

#define SMTP_IO_BUFSIZE 16384

typedef struct smtp_io_s smtp_io;
struct smtp_io_s
{
  lineread in;             /* flushes the replies before each read */
  buffer out;
  int fdin;
  unsigned int timeout;    /* seconds per read or write */
  int failed;              /* the client went away or timed out */
  int lined;               /* reading a command line: until rules */
  tain until;              /* the line's deadline: a client dripping one
                              byte per timeout cannot hold its slot */
  char inbuf[SMTP_IO_BUFSIZE];
  char outbuf[SMTP_IO_BUFSIZE];
};

/* getline results: the reader's (lineread.h), then our classification */
#define SMTP_LINE_OK LINEREAD_OK
#define SMTP_LINE_EOF LINEREAD_EOF
#define SMTP_LINE_TIMEOUT LINEREAD_TIMEOUT
#define SMTP_LINE_ERROR LINEREAD_ERROR          /* read error */
#define SMTP_LINE_TOOLONG LINEREAD_TOOLONG      /* longer than max: the rest was discarded */
#define SMTP_LINE_BARELF 5     /* LF without CR */
#define SMTP_LINE_BARECR 6     /* CR not followed by LF */
#define SMTP_LINE_NUL 7
#define SMTP_LINE_FLOOD 8      /* no line end within a sane bound: give up */

extern void smtp_io_init(smtp_io *io, int fdin, int fdout, unsigned int timeout);
extern void smtp_io_setfds(smtp_io *io, int fdin, int fdout);

/* Reads one command line of at most max bytes (CRLF included) into sa,
 * without the CRLF, NUL-terminated. The whole line must arrive within the
 * timeout (not only each read). */
extern int smtp_io_getline(smtp_io *io, stralloc *sa, size_t max);

/* Between these, reads share one deadline (now + timeout at start):
 * a line must arrive whole within the timeout, not only each read.
 * smtp_io_getline does it itself; DATA restarts it at every line end. */
extern void smtp_io_line_start(smtp_io *io);
extern void smtp_io_line_end(smtp_io *io);

/* Next input byte: 1 ok, 0 end of file, -1 timeout or error (io->failed). */
extern int smtp_io_getc(smtp_io *io, char *c);

/* The next run of buffered input, filling the buffer if it is empty:
 * 1 with *s and *n set, 0 end of file, -1 timeout or error. The caller
 * consumes what it used with smtp_io_skip. */
extern int smtp_io_peek(smtp_io *io, char const **s, size_t *n);
extern void smtp_io_skip(smtp_io *io, size_t n);

/* Bytes the client sent that we have not read yet. */
extern size_t smtp_io_pending(smtp_io const *io);
extern void smtp_io_discard(smtp_io *io);

/* Has the client sent anything we have not read yet, in the buffer or
 * already arrived on the connection? Never waits. 1 yes, 0 no. */
extern int smtp_io_early(smtp_io *io);

/* Copies up to max bytes of the unread input to s (for a log line): how many. */
extern size_t smtp_io_sample(smtp_io const *io, char *s, size_t max);

/* Queues a reply line (CRLF added). Multi-line replies: smtp_io_replycont
 * for every line but the last ("250-..."). */
extern void smtp_io_reply(smtp_io *io, char const *line);
extern void smtp_io_replyv(smtp_io *io, char const *const *parts, unsigned int n);
extern int smtp_io_flush(smtp_io *io);

#endif
