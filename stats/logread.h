/* logread.h: feeding log files and s6-log directories to a logsum. */
#ifndef TERN_LOGREAD_H
#define TERN_LOGREAD_H

#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "logsum.h"

/* Reads fd to its end, one line at a time, from its current offset. With
 * whole, a last line without a newline is read too; without, it is left
 * (a writer may be in the middle of it) and *used stops before it.
 * Returns 0, or -1 on a read error (errno). */
extern int logread_fd(logstream *, int fd, int whole, uint64_t *used);
/* The names of an s6-log directory's archives (@...), oldest first, each
 * followed by a NUL; current is not among them. -1 on error. */
extern int logread_archives(char const *dir, stralloc *names);
/* A directory (its archives, then current), a file, or "-" (stdin), each as
 * the service its directory or file is named after. -1 on error (errno). */
extern int logread_path(logsum *, char const *path);
/* Every log directory of the instance: $TERN_HOME/log/NAME/. */
extern int logread_home(logsum *);
/* The service a path's lines belong to: the directory's name, or for a
 * file inside an s6-log directory (current, @...) that directory's. */
extern void logread_svcname(char const *path, int isdir, char *out, size_t max);

#endif
