/* smtp_queue.h: running the queue program (tern-queue, or $TERNQUEUE) for
 * one message: message on its fd 0, envelope on its fd 1, its exit code
 * (lib/qexit.h) back. */
#ifndef TERN_SMTP_QUEUE_H
#define TERN_SMTP_QUEUE_H

#include <sys/types.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

typedef struct smtp_queue_s smtp_queue;
struct smtp_queue_s
{
  pid_t pid;
  int msgfd;               /* our end of the message pipe */
  int envfd;               /* our end of the envelope pipe */
  int failed;              /* a write failed: the queue program died early */
  unsigned int timeout;
  buffer b;
  char buf[16384];
};

/* Starts prog with TERN_QUEUEID=qid in its environment, and TERN_AUTHUSER
 * the name the client logged in with (authuser; 0: not logged in, and
 * TERN_AUTHUSER is removed). 1 ok, 0 error. */
extern int smtp_queue_start(smtp_queue *q, char const *prog, char const *qid, char const *authuser, unsigned int timeout);

/* Appends message bytes (LF line ends). Errors are remembered, not fatal:
 * the exit code tells the client what happened. */
extern void smtp_queue_put(smtp_queue *q, char const *s, size_t n);

/* Ends the message, sends the envelope, waits: the qexit code. */
extern int smtp_queue_finish(smtp_queue *q, stralloc const *envelope);

/* Gives up on the message: the queue program sees a short envelope and
 * removes its temporary file. */
extern void smtp_queue_abort(smtp_queue *q);

/* The queue program: $TERNQUEUE, else tern-queue beside our own binary. */
extern int smtp_queue_prog(stralloc *sa);

#endif
