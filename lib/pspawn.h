/* pspawn.h: starting a program with posix_spawn (a vfork-style clone, no
 * copy of the parent's page tables), its fds 0 and 1 given, its signal mask
 * and dispositions reset. tern-send starts a delivery program per run and
 * tern-queue per bounce: fork copies tern-send's memory map each time
 * (docs/delivery.md, "Process creation"). */
#ifndef TERN_PSPAWN_H
#define TERN_PSPAWN_H

#include <sys/types.h>

/* Runs argv[0] (searched in PATH when it has no '/') with fd0 as its fd 0
 * and fd1 as its fd 1 (any fds; every close-on-exec fd is not
 * inherited). The child starts with no
 * signal blocked and SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP at their
 * defaults. Returns the pid, or -1 (errno; ENOENT when the program is not
 * found). */
extern pid_t pspawn_fd01(char const *const *argv, int fd0, int fd1);

#endif
