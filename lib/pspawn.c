/* pspawn.c: posix_spawnp with fds 0 and 1 set and signals reset. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <spawn.h>
#include "pspawn.h"

extern char **environ;

static pid_t pspawn_go(char const *const *argv, int fd0, int fd1);

pid_t pspawn_fd01(char const *const *argv, int fd0, int fd1)
{
  pid_t pid;
  int e;
  int t0 = -1, t1 = -1;
  /* dup2(fd0, 0) must not clobber an fd1 that is 0, and so on: copies
   * above 2 first (a caller with fds 0-2 closed gets pipes there) */
  if (fd0 < 3 && (fd0 = t0 = fcntl(fd0, F_DUPFD_CLOEXEC, 3)) < 0) return -1;
  if (fd1 < 3 && (fd1 = t1 = fcntl(fd1, F_DUPFD_CLOEXEC, 3)) < 0) { e = errno; if (t0 >= 0) close(t0); errno = e; return -1; }
  pid = pspawn_go(argv, fd0, fd1);
  e = errno;
  if (t0 >= 0) close(t0);
  if (t1 >= 0) close(t1);
  errno = e;
  return pid;
}

static pid_t pspawn_go(char const *const *argv, int fd0, int fd1)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, dfl;
  pid_t pid;
  int e = posix_spawn_file_actions_init(&fa);
  if (e) { errno = e; return -1; }
  e = posix_spawnattr_init(&at);
  if (e) { posix_spawn_file_actions_destroy(&fa); errno = e; return -1; }
  sigemptyset(&none);
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE); sigaddset(&dfl, SIGCHLD); sigaddset(&dfl, SIGTERM);
  sigaddset(&dfl, SIGINT); sigaddset(&dfl, SIGHUP);
  /* dup2 clears close-on-exec on the copy; the originals stay close-on-exec */
  e = posix_spawn_file_actions_adddup2(&fa, fd0, 0);
  if (!e) e = posix_spawn_file_actions_adddup2(&fa, fd1, 1);
  if (!e) e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (!e) e = posix_spawnattr_setsigmask(&at, &none);
  if (!e) e = posix_spawnattr_setsigdefault(&at, &dfl);
  if (!e) e = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  if (e) { errno = e; return -1; }
  return pid;
}
