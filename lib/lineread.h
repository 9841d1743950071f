/* lineread.h: one timed line reader for the servers and the SMTP client
 * (smtpd/smtp_io.c, pop3/pop3_io.c, remote/remote_conn.c).
 *
 * What it shares: a buffer filled through a read callback (an fd, or TLS),
 * a deadline given per call, a "one byte per read" switch, and the split of
 * that input into lines up to LF, each bounded in length. It returns the
 * raw line, LF included, and says nothing of its bytes: what a bare LF, a
 * bare CR or a NUL means is protocol policy, and each caller keeps its own
 * (that is where smuggling is refused). An overlong line is reported as
 * soon as max bytes without LF are in; lineread_drop then reads on to its
 * LF with a cap, for callers that answer it and go on.
 *
 * Not a skalibs buffer: a buffer's read op is given only an fd, and the
 * TLS source (BearSSL, which buffers on its own) needs its context.
 *
 * SECURITY: the bytes are the peer's; nothing here interprets them, and
 * every line and every drop is bounded (max, cap) as well as timed. */
#ifndef TERN_LINEREAD_H
#define TERN_LINEREAD_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

/* Reads at most n bytes into s, waiting no later than deadline (0: the
 * source times each read on its own). >0 bytes, 0 end of file, -1 error
 * (errno; ETIMEDOUT when the deadline passed). */
typedef ssize_t lineread_op(void *src, char *s, size_t n, tain const *deadline);

typedef struct lineread_s lineread;
struct lineread_s
{
  lineread_op *op;
  void *src;
  char *buf;          /* the caller's storage */
  size_t size;
  size_t pos, len;    /* unread input is buf[pos..len) */
  int onebyte;        /* read one byte at a time: never past a line's LF */
};

#define LINEREAD_OK 0
#define LINEREAD_EOF 1       /* end of input (a partial line is lost) */
#define LINEREAD_TIMEOUT 2
#define LINEREAD_ERROR 3     /* read error or out of memory (errno) */
#define LINEREAD_TOOLONG 4   /* max bytes without LF (get), cap passed (drop) */

extern void lineread_init(lineread *r, lineread_op *op, void *src, char *buf, size_t size, int onebyte);

/* One line into sa (from its start), LF included. On TOOLONG, sa holds its
 * first max bytes and the rest is unread. */
extern int lineread_get(lineread *r, stralloc *sa, size_t max, tain const *deadline);

/* Reads and drops input up to and including the next LF: OK, or TOOLONG
 * when more than cap bytes went without one, or EOF/TIMEOUT/ERROR. */
extern int lineread_drop(lineread *r, size_t cap, tain const *deadline);

/* Reads more input through the callback: 1 got bytes, 0 end of file, -1
 * error or timeout (errno). */
extern int lineread_fill(lineread *r, tain const *deadline);

/* Buffered input not read yet: how much, where, and consuming it. */
#define lineread_len(r) ((r)->len - (r)->pos)
#define lineread_peek(r) ((r)->buf + (r)->pos)
extern void lineread_skip(lineread *r, size_t n);

/* The usual callback's work on a non-blocking fd: reads, and waits for
 * input (iopause) only when there is none, until deadline (0: forever). */
extern ssize_t lineread_fdread(int fd, char *s, size_t n, tain const *deadline);

/* Waits until fd is ready for events (IOPAUSE_READ or IOPAUSE_WRITE) or
 * the deadline passes (0: forever): 1 ready, 0 not (errno; ETIMEDOUT). */
extern int lineread_wait(int fd, short events, tain const *deadline);

#endif
