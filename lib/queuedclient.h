/* queuedclient.h: the client side of the resident queue writer's socket
 * (tern-queued; the records of lib/qdmsg.h): one message per connection.
 * tern-smtpd (smtpd/smtp_queue.c) and tern-dkimsign use it; a caller that
 * cannot reach the writer runs the queue program instead (qmail-queue's
 * interface), so nothing here decides what a failure to connect means.
 *
 *   queuedclient w;
 *   queuedclient_start(&w, path, qid, timeout)   1: the writer said 'R'
 *   queuedclient_put(&w, s, n)                    message bytes, LF ends
 *   queuedclient_finish(&w, env, envlen)          the envelope; the answer
 *   queuedclient_abort(&w)                        or: give up, nothing kept
 *
 * SECURITY: the writer's answer is parsed by qdmsg's parsers; anything
 * short, late or odd is QEXIT_CRASHED (a temporary failure), never a
 * success. The writer checks everything we send as tern-queue would: a
 * client proves nothing by using this code. */
#ifndef TERN_QUEUEDCLIENT_H
#define TERN_QUEUEDCLIENT_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "queueid.h"

typedef struct queuedclient_s queuedclient;
struct queuedclient_s
{
  int sock;                /* -1 when not connected */
  int failed;              /* a write failed: the writer gave up early */
  unsigned int timeout;    /* seconds per read or write */
  buffer b;
  char buf[16384];
  buffer rb;               /* the writer's answers */
  char rbuf[64];
  char id[QUEUEID_LEN + 1];   /* the committed ID, after a 0 */
};

/* The writer's socket, $TERN_HOME/queued/socket, in sa; empty (len 0) when
 * the environment variable var is set and not empty (a content filter or
 * another queue program is then named and must run). 1 ok, 0 no memory. */
extern int queuedclient_socket(stralloc *sa, char const *var);

/* Connects to the writer at path and proposes qid (QUEUEID_LEN digits;
 * the writer takes only a fresh one). 1 the writer is ready; 0 it is not
 * there, refuses us (uid, directory permissions), is busy or silent, with
 * errno set: the caller then runs the queue program. */
extern int queuedclient_start(queuedclient *w, char const *path, char const *qid, unsigned int timeout);

/* Message bytes, in records. Errors are remembered, not fatal: the
 * writer's answer (or its absence) tells what happened. */
extern void queuedclient_put(queuedclient *w, char const *s, size_t n);

/* Sends the envelope (whole: `Fsender\0Trcpt\0...\0\0`), waits for the
 * answer, closes: the qexit code; with 0, w->id is the committed ID. */
extern int queuedclient_finish(queuedclient *w, char const *env, size_t envlen);

/* Closes before the envelope: the writer commits nothing. */
extern void queuedclient_abort(queuedclient *w);

#endif
