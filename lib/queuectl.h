/* queuectl.h: what the admin's queue tools share (tern-qread, tern-qstat,
 * tern-qflush, tern-qsuper): finding the queue and speaking to tern-send
 * through queue/trigger (docs/queue-admin.md). */
#ifndef TERN_QUEUECTL_H
#define TERN_QUEUECTL_H

#include <skalibs/stralloc.h>
#include "queueid.h"   /* QUEUEID_FLUSH: the zero ID, never a message's */

/* sa = the queue directory ($TERN_HOME/queue). 1 it is a directory, 0 it
 * is not there (errno set; sa names where we looked), -1 out of memory. */
extern int queuectl_find(stralloc *sa);

/* queuectl_find(), or the end of the program (111) naming the path: a
 * tool must not report an empty queue for an instance that is not there. */
extern void queuectl_require(void);

/* Writes "LINE\n" (line: QUEUEID_LEN characters) to queue/trigger. 1 written, 0 no
 * tern-send is reading it (ENXIO), -1 error (errno set). */
extern int queuectl_trigger(char const *line);

#endif
