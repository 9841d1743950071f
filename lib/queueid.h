/* queueid.h: queue IDs and the queue paths they name (docs/INTERNALS.md,
 * "Queue"). The one place that knows an ID's length, its alphabet, its
 * time half and its bucket: every program that reads an ID from a file
 * name, a fifo, a packet or its environment checks it here.
 *
 * An ID is QUEUEID_LEN lowercase hex digits: 8 of the arrival time
 * (seconds since the epoch), 8 random. A message's file is
 * queue/DIR/HH/ID, HH being the ID's last two digits (256 buckets). The
 * zero ID is never a message's: on queue/trigger it asks tern-send for a
 * flush (tern-qflush). */
#ifndef TERN_QUEUEID_H
#define TERN_QUEUEID_H

#include <stdint.h>
#include <skalibs/stralloc.h>

#define QUEUEID_LEN 16
#define QUEUEID_FLUSH "0000000000000000"

/* Are the first QUEUEID_LEN bytes of s lowercase hex digits? s need not
 * be NUL-terminated (a record, a fifo line), but must hold QUEUEID_LEN
 * bytes or end before with a NUL (which is not a digit). */
extern int queueid_hex(char const *s);

/* Is s (a string) exactly QUEUEID_LEN lowercase hex digits? The zero ID
 * passes: callers that take a message's ID use queueid_ok. */
extern int queueid_is(char const *s);

/* Is s a message's ID: queueid_is and not the zero ID? *v (may be 0) gets
 * its 64 bits, 0 when it is not one. */
extern int queueid_value(char const *s, uint64_t *v);
extern int queueid_ok(char const *s);

/* The arrival time of id (its first 8 digits; id checked by the caller). */
extern uint64_t queueid_time(char const *id);

/* A fresh ID in id (QUEUEID_LEN + 1 bytes: the digits and a NUL). */
extern void queueid_new(char *id);

/* hh (3 bytes) = the bucket of id (a checked ID): its last two digits
 * and a NUL. */
extern void queueid_bucket(char *hh, char const *id);

/* sa = "$TERN_HOME/queue/DIR/HH/ID" and a NUL. 0 out of memory, or errno
 * EINVAL for an id shorter than 2 (it is not checked otherwise: callers
 * pass names they read from the queue or checked). */
extern int queueid_path(stralloc *sa, char const *dir, char const *id);

/* Is there a file queue/DIR/HH/ID? 0 when not, or id is not QUEUEID_LEN
 * characters long, or the path cannot be built. */
extern int queueid_exists(char const *dir, char const *id);

/* Calls fn(dir, name, data) for each entry (dot files skipped) of
 * $TERN_HOME/queue/SUB/00 .. ff, or of queue/SUB itself when flat. */
typedef void queueid_each_fn(char const *dir, char const *name, void *data);
extern void queueid_each(char const *sub, int flat, queueid_each_fn *fn, void *data);
/* The same for the one bucket queue/SUB/HH, hh 0..255 (a scan in parts). */
extern void queueid_each_bucket(char const *sub, unsigned int hh, queueid_each_fn *fn, void *data);

#endif
