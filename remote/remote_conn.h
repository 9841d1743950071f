/* remote_conn.h: one outgoing SMTP connection with timeouts, plaintext or
 * (after STARTTLS) through BearSSL.
 *
 * Every read and write has its own deadline (timeoutremote): a peer that
 * stops talking costs at most that long per step. Replies are read line by
 * line from our own buffer, so after STARTTLS we can tell whether the peer
 * sent anything it should not have before the handshake. */
#ifndef TERN_REMOTE_CONN_H
#define TERN_REMOTE_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/ip46.h>
#include "lineread.h"

#define CONN_LINE_MAX 2048   /* longest reply line we accept (RFC 5321: 512) */

typedef struct rtls_s rtls;

typedef struct conn_s conn;
struct conn_s
{
  int fd;
  unsigned int timeout;   /* seconds for each read or write */
  rtls *tls;              /* 0 while in plaintext */
  lineread in;            /* reads fd or tls, each read timed on its own */
  char rbuf[4096];
  stralloc out;           /* queued output, sent by conn_flush */
  char const *err;        /* why the last call failed, for the report */
};

/* Connects to ip:port within ctimeout seconds. 1 ok, 0 failed (c->err). */
extern int conn_open(conn *c, ip46 const *ip, uint16_t port, unsigned int ctimeout, unsigned int timeout);
extern void conn_close(conn *c);

/* Sets c up, in plaintext, on fd (conn_open does; a test gives it one end
 * of a socketpair). */
extern void conn_attach(conn *c, int fd, unsigned int timeout);

/* Queues bytes; conn_flush sends them. 1 ok, 0 failed (c->err). */
extern int conn_put(conn *c, char const *s, size_t n);
extern int conn_puts(conn *c, char const *s);
extern int conn_flush(conn *c);

/* Reads one line, without its line end, into line (not NUL-terminated).
 * A line longer than CONN_LINE_MAX is an error. 1 ok, 0 failed (c->err). */
extern int conn_getline(conn *c, stralloc *line);

/* Bytes received but not read yet. */
#define conn_buffered(c) lineread_len(&(c)->in)

/* The raw timed I/O on a file descriptor, used by the TLS layer too:
 * >0 bytes, 0 end of file (read) , -1 error (errno; ETIMEDOUT). */
extern ssize_t conn_fdread(int fd, char *s, size_t n, unsigned int timeout);
extern ssize_t conn_fdwrite(int fd, char const *s, size_t n, unsigned int timeout);

#endif
