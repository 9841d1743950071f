/* setid.h: what a program that runs with ids its caller lacks does first
 * (tern-queue, tern-local, tern-remote, tern-checkpassword; docs/security.md).
 * Its caller chose its environment, its open descriptors, its signal
 * dispositions and mask, its umask and its resource limits: a set-id
 * program trusts none of them. */
#ifndef TERN_SETID_H
#define TERN_SETID_H

/* 1 when this process runs with ids or privileges its caller does not
 * have: the kernel said so at exec (AT_SECURE: a setuid or setgid bit, file
 * capabilities, a security module), or the real and effective ids differ. */
extern int setid_secure(void);

/* Makes sure descriptors 0, 1 and 2 are open, so that nothing opened later
 * lands on one of them by accident (a caller that closed fd 2 would get our
 * queue file as its error output, and our error messages into it). Each
 * closed one is opened on /dev/null. Returns a bit mask of those that were
 * closed (1: fd 0, 2: fd 1, 4: fd 2), or -1 when /dev/null cannot be opened
 * (errno set). */
extern int setid_fds(void);

/* 1 when fd is open for reading (write 0) or writing (write 1). glibc
 * opens /dev/null in place of a closed fd 0, 1 or 2 of a set-id program
 * before main, fd 0 write-only and fds 1, 2 read-only: setid_fds() then sees
 * them open, this sees them unusable. */
extern int setid_fd_ok(int fd, int write);

/* Unblocks every signal: a caller can exec us with SIGALRM blocked, and a
 * timeout that never fires is no timeout. Dispositions are the program's to
 * set (an ignored signal stays ignored across exec: set those you rely on).
 * 1 ok, 0 error. */
extern int setid_sigunblock(void);

/* Empties the environment: every getenv() after it gives the compiled
 * default. 1 ok, 0 error. */
extern int setid_env_clear(void);

#endif
