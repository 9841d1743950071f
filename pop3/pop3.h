/* pop3.h: the parts of tern-pop3d (RFC 1939, 2449, 2595), one section per
 * helper file of pop3/.
 *
 * SECURITY: everything here parses or answers network input. The auth part
 * (pop3_auth.c) holds no secret but the password it passes on, and never
 * reads past the line it is answering, so a checkpassword program and a TLS
 * engine started after it see the byte stream exactly where it stopped. */
#ifndef TERN_POP3_H
#define TERN_POP3_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include "lineread.h"

/* Limits, each with an option (docs/tern-pop3d.8). */
#define POP3_TIMEOUT_DEFAULT 600   /* RFC 1939: an autologout timer of at least 10 minutes */
#define POP3_LINE_DEFAULT 255      /* RFC 2449: a command line is at most 255 octets */
#define POP3_LINE_MAX 4096
#define POP3_ERRORS_DEFAULT 10
#define POP3_FAILS_DEFAULT 3
#define POP3_MSGS_DEFAULT 100000
#define POP3_DELAY_DEFAULT 2       /* seconds after a failed login */

typedef struct pop3_limits_s pop3_limits;
struct pop3_limits_s
{
  unsigned int timeout;   /* seconds to wait for a command, or to write a reply */
  unsigned int linemax;   /* longest command line, CR LF included */
  unsigned int errors;    /* bad commands before we hang up */
  unsigned int fails;     /* failed logins before we hang up (auth part) */
  unsigned int msgs;      /* most messages listed in one session (mailbox part) */
  unsigned int delay;     /* seconds to wait before answering a failed login */
};
#define POP3_LIMITS_DEFAULT { POP3_TIMEOUT_DEFAULT, POP3_LINE_DEFAULT, POP3_ERRORS_DEFAULT, POP3_FAILS_DEFAULT, POP3_MSGS_DEFAULT, POP3_DELAY_DEFAULT }

/* ---- pop3_io.c: command lines in, replies out, both with deadlines. ---- */

typedef struct pop3_io_s pop3_io;
struct pop3_io_s
{
  int in, out;            /* fds */
  lineread rd;            /* without readahead, one byte a read (auth part) */
  unsigned int timeout;
  size_t olen;
  char ibuf[4096];
  char obuf[8192];
};

/* Sets up io on fds in and out (made non-blocking). */
extern void pop3_io_init(pop3_io *io, int in, int out, int readahead, unsigned int timeout);

#define POP3_LINE_OK 1
#define POP3_LINE_EOF 0
#define POP3_LINE_TIMEOUT -1   /* or a read error */
#define POP3_LINE_LONG -2      /* longer than max: the rest of it was discarded */
#define POP3_LINE_BAD -3       /* held a NUL or a bare CR */

/* Reads one line into sa (NUL-terminated, CR LF or LF removed). A line of
 * more than max octets (CR LF counted) is read to its end and refused. */
extern int pop3_getline(pop3_io *io, stralloc *sa, size_t max);

/* Whether unread input is waiting in io's buffer (pipelining). */
extern int pop3_pending(pop3_io const *io);

/* Queue bytes for the client; flushes when the buffer fills. 1 ok, 0 the
 * client went away or stopped reading for the timeout. */
extern int pop3_put(pop3_io *io, char const *s, size_t n);
extern int pop3_puts(pop3_io *io, char const *s);
extern int pop3_flush(pop3_io *io);

/* Ends a session we refuse to continue: flushes, shuts the socket for
 * writing and drops what the client still sends for up to a second, so
 * our last reply is not lost to a reset. */
extern void pop3_hangup(pop3_io *io);

/* One reply line: s then CR LF, flushed. 1 ok, 0 failed. */
extern int pop3_reply(pop3_io *io, char const *s);

/* ---- pop3_cmd.c: splitting and checking commands. ---- */

/* Splits line in place: *verb uppercased, args[] (at most maxargs) separated
 * by single spaces. Returns the number of args, or -1 when there are more
 * than maxargs or the line is empty or has empty fields. With rest set,
 * the first argument takes the rest of the line as is (PASS: passwords may
 * hold spaces). */
extern int pop3_split(char *line, char **verb, char **args, int maxargs, int rest);

/* A message number or line count: decimal digits only, no sign, at most 9
 * digits. 1 ok, 0 bad. */
extern int pop3_number(char const *s, unsigned int *u);

/* ---- pop3_msg.c: a message as POP3 sends it. ---- */

/* Messages go out through lib/dataenc.h (its SMTP form: CR LF line ends,
 * dot-stuffed, NUL dropped, a lone CR a line end), whatever the file holds. */

/* The size POP3 reports for a message: the bytes RETR sends before the
 * final "." (CR LF line ends, NUL dropped), not counting stuffing dots;
 * from a ",W=N" in the file name when there is one, else counted. -1 error. */
extern int pop3_msg_size(char const *path, char const *name, uint64_t *size);

/* Sends path as the answer to RETR (maxbody UINT64_MAX) or TOP, then the
 * terminating ".". 1 sent; 0 the client failed; -1 the file could not be
 * opened (nothing sent) or failed while read (what was read is sent, then
 * the terminating ".", so the client is never left hanging). */
extern int pop3_msg_send(pop3_io *io, char const *path, uint64_t maxbody);

/* ---- pop3_maildir.c: the mailbox. ---- */

typedef struct pop3_msg_s pop3_msg;
struct pop3_msg_s
{
  size_t name;           /* offset in the names stralloc: "cur/FILE" */
  char const *path;      /* the same, as a pointer, once the scan is done */
  uint64_t size;
  time_t mtime;
  int deleted;
  char uid[71];          /* RFC 1939: 1 to 70 characters 0x21-0x7E */
};

typedef struct pop3_box_s pop3_box;
struct pop3_box_s
{
  stralloc names;
  genalloc msgs;         /* pop3_msg */
};
#define POP3_BOX_ZERO { STRALLOC_ZERO, GENALLOC_ZERO }

/* Moves new/ into cur/, then lists cur/ (at most max messages, the oldest
 * first, by mtime then name). The current directory must be the Maildir.
 * 1 ok, -1 error (errno). */
extern int pop3_box_scan(pop3_box *b, unsigned int max);

extern void pop3_box_free(pop3_box *b);

/* The unique id of the Maildir file name f (cur/ or new/ stripped). */
extern void pop3_uid(char *uid, char const *f);

/* Removes the messages marked deleted; returns how many could not be. */
extern unsigned int pop3_box_commit(pop3_box *b);

#define pop3_box_n(b) genalloc_len(pop3_msg, &(b)->msgs)
#define pop3_box_msg(b, i) (genalloc_s(pop3_msg, &(b)->msgs) + (i))
#define pop3_box_name(b, m) ((m)->path)

/* ---- pop3_auth.c, pop3_mbox.c: the two halves. ---- */

typedef struct pop3_authopts_s pop3_authopts;
struct pop3_authopts_s
{
  pop3_limits lim;
  int plaintext;          /* allow USER/PASS without TLS */
  char const *const *cp;  /* the checkpassword command line */
};

/* The auth part: greeting, CAPA, STLS, USER, PASS, QUIT; runs the
 * checkpassword program for each login. Returns the exit code. */
extern int pop3_auth_run(pop3_authopts const *o);

/* The mailbox part, in the Maildir given (the current directory is changed
 * to it). Returns the exit code. */
extern int pop3_mbox_run(pop3_limits const *lim, char const *maildir);

/* ---- pop3_tls.c: STLS through tern-tlsd (UCSPI-TLS, lib/ucspitls). ---- */

/* 1 when TLS is available (SSLCTLFD and friends set) and not yet on. */
extern int pop3_tls_can(void);
/* 1 when the connection is already encrypted (SSL_PROTOCOL set). */
extern int pop3_tls_on(void);
/* Asks tern-tlsd for the handshake and moves fds 0/1 onto the TLS pipes.
 * 1 ok, 0 failed (the connection is unusable). */
extern int pop3_tls_start(unsigned int timeout);

#endif
