/* qinject.c: running tern-queue with a message and an envelope. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "qinject.h"
#include "pspawn.h"

int qinject_path_self(char const *argv0)
{
  stralloc sa = STRALLOC_ZERO;
  char *real, *slash;
  char const *old = getenv("PATH");
  int r = -1;
  if (!strchr(argv0, '/')) return 1;
  real = realpath(argv0, 0);
  if (!real) return errno == ENOENT ? 1 : -1;
  slash = strrchr(real, '/');
  if (slash && stralloc_catb(&sa, real, slash == real ? 1 : (size_t)(slash - real)) && stralloc_catb(&sa, ":", 1)
   && stralloc_cats(&sa, old ? old : "/usr/bin:/bin") && stralloc_0(&sa) && setenv("PATH", sa.s, 1) == 0) r = 1;
  free(real);
  stralloc_free(&sa);
  return r;
}

char const *qinject_prog(void)
{
  char const *q = getenv("TERNQUEUE");
  return q && *q ? q : "tern-queue";
}

int qinject(char const *prog, qinject_put *put, void *data, char const *env, size_t envlen)
{
  int pm[2], pe[2], wstat, ok;
  pid_t pid;
  if (pipecoe(pm) < 0) return -1;
  if (pipecoe(pe) < 0) { fd_close(pm[0]); fd_close(pm[1]); return -1; }
  {
    /* posix_spawn, not fork: no copy of the caller's memory (tern-send's
     * queue in memory) per bounce or forward */
    char const *argv[2] = { prog, 0 };
    pid = pspawn_fd01(argv, pm[0], pe[0]);
  }
  if (pid < 0)
  {
    int e = errno;
    fd_close(pm[0]); fd_close(pm[1]); fd_close(pe[0]); fd_close(pe[1]);
    errno = e;
    return -1;
  }
  fd_close(pm[0]);
  fd_close(pe[0]);
  ok = put(pm[1], data);
  fd_close(pm[1]);
  if (ok) allwrite(pe[1], env, envlen);
  fd_close(pe[1]);
  if (wait_pid(pid, &wstat) < 0) return -1;
  if (WIFSIGNALED(wstat)) return 256 + WTERMSIG(wstat);
  return WEXITSTATUS(wstat);
}

char const *qinject_strexit(int code)
{
  switch (code)
  {
    case 0: return "queued (0)";
    case 11: return "address too long (11)";
    case 31: return "message refused permanently (31)";
    case 51: return "queue out of memory (51)";
    case 52: return "queue timeout (52)";
    case 53: return "queue write error or disk full (53)";
    case 54: return "queue unable to read message or envelope (54)";
    case 55: return "queue unable to read configuration (55)";
    case 61: return "queue trouble with TERN_HOME (61)";
    case 62: return "trouble in the queue (62)";
    case 71: return "queue refused temporarily (71)";
    case 81: return "queue internal bug (81)";
    case 91: return "queue envelope format error (91)";
    default: return code >= 256 ? "queue program killed by a signal" :
      (code >= 11 && code <= 40) ? "queue refused the message permanently" : "queue failed temporarily";
  }
}
