/* dkim_run.c: starting and reaping the programs tern-dkimsign runs (dkim_run.h). */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include "dkim_run.h"

extern char **environ;

int dkim_run_beside(stralloc *sa, char const *name)
{
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 0;
  while (n && self[n-1] != '/') n--;
  sa->len = 0;
  return stralloc_catb(sa, self, (size_t)n) && stralloc_cats(sa, name) && stralloc_0(sa);
}

pid_t dkim_run_spawn(char const *const *argv, int fd0, int fd1)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, def;
  pid_t pid = -1;
  int e;
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGALRM);
  sigaddset(&def, SIGCHLD);
  if ((e = posix_spawn_file_actions_init(&fa))) { errno = e; return -1; }
  if ((e = posix_spawnattr_init(&attr))) { posix_spawn_file_actions_destroy(&fa); errno = e; return -1; }
  if (!(e = posix_spawn_file_actions_adddup2(&fa, fd0, 0))
   && !(e = posix_spawn_file_actions_adddup2(&fa, fd1, 1))
   && !(e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
   && !(e = posix_spawnattr_setsigmask(&attr, &none))
   && !(e = posix_spawnattr_setsigdefault(&attr, &def)))
    e = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (e) { errno = e; return -1; }
  return pid;
}

int dkim_run_wait(pid_t pid)
{
  int wstat;
  if (wait_pid(pid, &wstat) < 0 || !WIFEXITED(wstat)) return -1;
  return WEXITSTATUS(wstat);
}
