/* queuewrite.h: putting one message into the queue so that what is
 * committed is provably the file we wrote (docs/INTERNALS.md, "Queue";
 * docs/security.md). tern-queue uses it; so can a resident queue writer.
 *
 *   queuewrite q = QUEUEWRITE_ZERO;
 *   queuewrite_open(&q, home)           the queue's directories, checked by fd
 *   queuewrite_create(&q, proposed)     the file, unnamed (O_TMPFILE) or tmp/ID
 *   queuewrite_put(&q, s, n) ...        the message
 *   queuewrite_commit(&q, env, envlen)  envelope, trailer, fsync, checks by
 *                                       fd, link into mess/HH/, fsync mess/HH
 *   queuewrite_trigger(&q)              "ID\n" to queue/trigger
 *   queuewrite_close(&q)                an uncommitted file is removed
 *
 * Each step returns 0 or a qmail-queue exit code (lib/qexit.h); then errno
 * is set (0 when the reason is ours, not the system's) and q->what says
 * what could not be done, for "unable to ...". Nothing here reads the
 * environment: the caller decides the home and whether a proposed ID is
 * acceptable (queuewrite_id_ok). Not thread-safe; one message at a time. */
#ifndef TERN_QUEUEWRITE_H
#define TERN_QUEUEWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "queuefile.h"
#include "queueid.h"

/* How old (seconds) the time in a proposed ID may be, for a caller that is
 * not trusted to name files (queuewrite_id_ok's strict mode). */
#define QUEUEWRITE_ID_MAXAGE 600
/* and how far ahead of our clock (a clock stepped back meanwhile) */
#define QUEUEWRITE_ID_AHEAD 60

/* Message bytes gathered before a write (q->gather): a small message goes to the file
 * with its envelope and trailer in one writev (a 1 KiB message took three
 * writes, bench/PROFILE-accept.md). A fixed array, so that queuewrite_close
 * stays async-signal-safe. */
#define QUEUEWRITE_PEND 8192

typedef struct queuewrite_s queuewrite;
struct queuewrite_s
{
  int queue, tmp, mess;         /* directory descriptors, -1 when closed */
  int fd;                       /* the file being written, -1 none */
  int named;                    /* 1: the file is tmp/ID (no O_TMPFILE) */
  int proc;                     /* 1: /proc/self/fd/FD is our file: link by it */
  int committed;
  uid_t uid;                    /* our effective ids: the queue's owner */
  gid_t gid;
  dev_t dev;                    /* the file we created */
  ino_t ino;
  uint64_t len;                 /* message bytes written */
  char const *what;
  char whatbuf[96];
  char id[QUEUEID_LEN + 1];
  char tmpname[QUEUEID_LEN + 1];   /* tmp/NAME when named */
  int borrowed;                 /* queue, tmp, mess are a kept set's (queuewrite_open_kept): not closed here */
  int gather;                   /* set by the caller: gather put's bytes in pend (tern-queued) */
  size_t pendn;                 /* message bytes in pend, not yet written */
  char pend[QUEUEWRITE_PEND];
};
#define QUEUEWRITE_ZERO { .queue = -1, .tmp = -1, .mess = -1, .fd = -1 }

/* 1 when id may name a new queue file: 16 lowercase hex digits, not all
 * zero (tern-send ignores that name). strict (a caller not trusted to name
 * files): also its time part (the first 8 digits) lies within
 * QUEUEWRITE_ID_MAXAGE seconds before now and QUEUEWRITE_ID_AHEAD after,
 * so a caller can neither set a message's age (tern-send counts the queue
 * lifetime from it) nor reuse a name from the queue's past. */
extern int queuewrite_id_ok(char const *id, int strict, uint64_t now);

/* The envelope as it arrives, checked byte by byte so that a sender who
 * keeps the stream open is not waited on and no address grows past
 * ENVELOPE_ADDR_MAX: tern-queue reads it from fd 1, tern-queued from its
 * socket. The same checks for both. */
typedef struct queuewrite_env_s queuewrite_env;
struct queuewrite_env_s
{
  stralloc sa;      /* the envelope so far */
  size_t start;     /* where the current record starts in sa */
  int done;         /* 1: the final empty record was read */
};
#define QUEUEWRITE_ENV_ZERO { .sa = STRALLOC_ZERO, .start = 0, .done = 0 }

/* Takes one byte: 0 ok (e->done says whether that was the end), else a
 * qmail-queue exit code: 91 the format is wrong (a byte after the end
 * included), 11 an address too long, 51 out of memory. errno is 0 but
 * for 51. */
extern int queuewrite_env_byte(queuewrite_env *e, char c);

/* The whole envelope, once done, parsed as the queue file will hold it:
 * 0 ok, 91 malformed, 51 out of memory. */
extern int queuewrite_env_check(queuewrite_env const *e);

/* Reads the envelope from fd up to its final empty record, byte by byte
 * through queuewrite_env_byte (so a writer that keeps fd open is not
 * waited on, and nothing after the end is read), then checks it: 0 ok,
 * else the exit code with *what saying what could not be done ("read the
 * envelope": 54, errno EPIPE when it ended early). tern-queue and
 * tern-dkimsign read fd 1 with it. */
extern int queuewrite_env_read(queuewrite_env *e, int fd, char const **what);

/* Opens home (following the path as given: the compiled home, or the
 * caller's own) and below it queue/, queue/tmp/, queue/mess/ without
 * following a symbolic link; each must be a directory owned by our
 * effective uid that no one else may write (the group may, when it is our
 * effective gid, except tmp/). Exit codes: 61 home, 62 queue. */
extern int queuewrite_open(queuewrite *q, char const *home);

/* A resident writer's queuewrite_open: the directories are opened once
 * into kept and lent to q (queuewrite_close(q) leaves them open). For
 * every message they are checked again by descriptor as queuewrite_open
 * checks them (owner, nobody else may write), and HOME/queue must still be
 * the directory kept (one lstat): else kept is opened again. 4 fstat and
 * an lstat per message instead of 3 opens, 3 fstats and 3 closes. */
extern int queuewrite_open_kept(queuewrite *q, queuewrite *kept, char const *home);

/* Creates the file in tmp/ and picks its ID: proposed when not null (the
 * caller has checked it with queuewrite_id_ok), a fresh one otherwise. */
extern int queuewrite_create(queuewrite *q, char const *proposed);

/* Appends n message bytes. With q->gather set (tern-queued), gathered up
 * to QUEUEWRITE_PEND first: a failed write may then be reported by a
 * later put or by the commit, with the same code; without it (tern-queue,
 * whose caller may watch the file grow: queue_crash.t) written at once. A file size limit (RLIMIT_FSIZE) gives 53 when
 * the caller ignores SIGXFSZ, as tern-queue does. */
extern int queuewrite_put(queuewrite *q, char const *s, size_t n);

/* Appends the envelope (already validated) and the trailer, fsyncs the
 * file, checks by descriptor that it is still the regular file we created,
 * with our owner, size and link count, and links it into mess/HH/ under its
 * ID (another fresh ID when that name is taken), then fsyncs mess/HH/; if
 * that fsync fails the link is removed. q->id is the final ID. */
extern int queuewrite_commit(queuewrite *q, char const *env, size_t envlen);

/* Tells a listening scheduler the new ID ("ID\n" on queue/trigger, without
 * blocking). Best effort: a missed trigger is found by the scheduler's scan. */
extern void queuewrite_trigger(queuewrite const *q);

/* Closes everything; an uncommitted tmp/ID is removed. Async-signal-safe,
 * so a signal handler may call it. */
extern void queuewrite_close(queuewrite *q);

#endif
