/* queued_conn.h: one client of tern-queued, one message: the records it
 * sends (lib/qdmsg.h) turned into a queue file (lib/queuewrite.h).
 *
 *   queued_conn c;
 *   queued_conn_start(&c, fd, &lim, home, kept)   after the 'R' was sent
 *   queued_conn_feed(&c, s, n)              bytes as they arrive; returns
 *                                           QUEUED_MORE, or QUEUED_END when
 *                                           c.code is the result to send
 *   queued_conn_end(&c)                     removes an uncommitted file
 *
 * SECURITY: everything fed is untrusted (tern-smtpd parses the network):
 * the ID must be fresh (queuewrite_id_ok strict), each record is checked
 * by qdmsg_hdr_parse, the message is bounded by lim->maxbytes and the
 * envelope by lim->maxenv and by the checks tern-queue makes. */
#ifndef TERN_QUEUED_CONN_H
#define TERN_QUEUED_CONN_H

#include <stddef.h>
#include <stdint.h>
#include "qdmsg.h"
#include "queuewrite.h"

#define QUEUED_MORE 0
#define QUEUED_END 1

typedef struct queued_limits_s queued_limits;
struct queued_limits_s
{
  uint64_t maxbytes;    /* message bytes; 0: no limit */
  size_t maxenv;        /* envelope bytes */
};

typedef struct queued_conn_s queued_conn;
struct queued_conn_s
{
  int fd;
  int stage;
  char hdr[QDMSG_HDR];
  size_t hdrn;
  char type;               /* of the record being read */
  uint32_t left;           /* its payload bytes still to come */
  char id[QUEUEID_LEN + 1];
  size_t idn;
  int code;                /* the result, at QUEUED_END */
  char const *what;        /* with a failure: what could not be done */
  int err;                 /* with a failure: the errno that says why, or 0 */
  queued_limits const *lim;
  char const *home;
  queuewrite *kept;
  queuewrite q;
  queuewrite_env env;
};

/* kept: the writer's queue directories, opened once and checked again per
 * message (queuewrite_open_kept); 0: opened per message. */
extern void queued_conn_start(queued_conn *c, int fd, queued_limits const *lim, char const *home, queuewrite *kept);
extern int queued_conn_feed(queued_conn *c, char const *s, size_t n);
/* The client went away before the end: nothing is committed. */
extern void queued_conn_end(queued_conn *c);

#endif
