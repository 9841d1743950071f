/* smtp_queue.h: handing one message to the queue: to the resident queue
 * writer (tern-queued) over its socket when it answers, otherwise to the
 * queue program (tern-queue, or $TERNQUEUE) with the message on its fd 0,
 * the envelope on its fd 1; either way a qmail-queue exit code (lib/qexit.h)
 * comes back. */
#ifndef TERN_SMTP_QUEUE_H
#define TERN_SMTP_QUEUE_H

#include <sys/types.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "queuedclient.h"

typedef struct smtp_queue_s smtp_queue;
struct smtp_queue_s
{
  pid_t pid;               /* the queue program; 0 with the writer */
  int writer;              /* 1: the message goes to w (lib/queuedclient.h) */
  int msgfd;               /* our end of the message pipe */
  int envfd;               /* our end of the envelope pipe */
  int failed;              /* a write failed: the queue program died early */
  unsigned int timeout;
  buffer b;
  char buf[16384];
  queuedclient w;          /* with the writer; w.id the committed ID */
};

/* With sock (the writer's socket path, 0: none), connects to the writer and
 * proposes qid; when it is not there, refuses us or is busy, or with no
 * sock: starts prog with TERN_QUEUEID=qid in its environment, and
 * TERN_AUTHUSER the name the client logged in with (authuser; 0: not
 * logged in, and TERN_AUTHUSER is removed). 1 ok, 0 error. */
extern int smtp_queue_start(smtp_queue *q, char const *sock, char const *prog, char const *qid, char const *authuser, unsigned int timeout);

/* Appends message bytes (LF line ends). Errors are remembered, not fatal:
 * the exit code tells the client what happened. */
extern void smtp_queue_put(smtp_queue *q, char const *s, size_t n);

/* Ends the message, sends the envelope, waits: the qexit code. With the
 * writer and code 0, q->w.id is the ID the message was committed under. */
extern int smtp_queue_finish(smtp_queue *q, stralloc const *envelope);

/* Gives up on the message: the queue program sees a short envelope and
 * removes its temporary file. */
extern void smtp_queue_abort(smtp_queue *q);

/* The queue program: $TERNQUEUE, else tern-queue beside our own binary. */
extern int smtp_queue_prog(stralloc *sa);

/* The writer's socket, $TERN_HOME/queued/socket, in sa; empty (len 0) when
 * $TERNQUEUE is set: a content filter is then always run. 1 ok, 0 no memory. */
extern int smtp_queue_socket(stralloc *sa);

#endif
