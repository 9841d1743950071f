/* queuefile.h: the layout of one committed queue file (docs/INTERNALS.md):
 *   message bytes (LF line ends) | envelope | trailer
 * The trailer is QUEUEFILE_TRAILER bytes: the message length as 20 decimal
 * digits, then '\n'. Writing the envelope after the message lets tern-queue
 * stream the message to disk before it has read the envelope, and commit the
 * whole with one fsync and one rename. */
#ifndef TERN_QUEUEFILE_H
#define TERN_QUEUEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define QUEUEFILE_TRAILER 21

/* Formats the trailer for a message of msglen bytes into t (21 bytes). */
extern void queuefile_trailer(char *t, uint64_t msglen);

/* Reads the envelope of the open queue file fd into sa (exactly the envelope
 * bytes, validated with envelope_parse) and the message length into *msglen.
 * 1 ok, 0 the file is malformed (errno EPROTO), -1 system error. */
extern int queuefile_read_envelope(int fd, stralloc *sa, uint64_t *msglen);

#endif
