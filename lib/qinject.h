/* qinject.h: hand a message to tern-queue (qmail-queue's interface: message
 * on its fd 0, envelope on its fd 1). Used by tern-local (forwarding),
 * tern-send (bounces) and tern-inject. The caller ignores SIGPIPE. */
#ifndef TERN_QINJECT_H
#define TERN_QINJECT_H

#include <stddef.h>

/* Writes the message into fd; 1 ok, 0 failed (the queue gives up). */
typedef int qinject_put(int fd, void *data);

/* Runs prog (a path, or a name searched in PATH), writes the message with
 * put, closes the pipe, then writes env[0..envlen). Returns prog's exit code
 * (0 queued, 11-40 permanent, others temporary, 256 + signal if killed),
 * or -1 if it could not be run (errno). */
extern int qinject(char const *prog, qinject_put *put, void *data, char const *env, size_t envlen);

/* The program to run: $TERNQUEUE if set and not empty, else "tern-queue". */
extern char const *qinject_prog(void);

/* A line of text for a queue exit code, e.g. "disk full (53)". */
extern char const *qinject_strexit(int code);

/* Puts the directory of the program argv0 names (symlinks resolved) first
 * in PATH, so that an installed tern-send or tern-inject (even reached as
 * /usr/sbin/sendmail) runs the tern-queue, tern-local, tern-remote installed
 * beside it. argv0 without a '/' leaves PATH alone. 1 ok, -1 error. */
extern int qinject_path_self(char const *argv0);

#endif
