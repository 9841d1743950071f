/* dkim_run.h: the programs tern-dkimsign runs: the queue program, with the
 * message on its fd 0 and our fd 1 (the envelope, never read by us) as its
 * fd 1, and tern-dkimseal. */
#ifndef TERN_DKIM_RUN_H
#define TERN_DKIM_RUN_H

#include <sys/types.h>
#include <skalibs/stralloc.h>

/* sa = the directory of our own executable, then name (NUL-terminated).
 * 1 ok, 0 error (errno). */
extern int dkim_run_beside(stralloc *sa, char const *name);

/* Starts argv[0] (a path) with fd0 as its fd 0 and fd1 as its fd 1; our
 * other fds are close-on-exec and stay with us. It starts with no signal
 * blocked and SIGPIPE, SIGALRM, SIGCHLD at their defaults (we ignore
 * SIGPIPE; it must not). Uses posix_spawn: no copy of our memory map.
 * Returns the pid, or -1 (errno). */
extern pid_t dkim_run_spawn(char const *const *argv, int fd0, int fd1);

/* Waits for pid: its exit code, or -1 when a signal killed it (or the wait
 * failed). */
extern int dkim_run_wait(pid_t pid);

#endif
