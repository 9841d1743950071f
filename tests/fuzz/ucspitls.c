/* Fuzz the application side of UCSPI-TLS: the input is what tern-tlsd sends
 * back on the control fd after 'Y'. Only SSL_* variables may ever reach the
 * environment, and nothing after the block's end is read. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <skalibs/tai.h>
#include "fuzz.h"
#include "ucspitls.h"

extern char **environ;

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  ucspitls u;
  stralloc info = STRALLOC_ZERO;
  tain deadline;
  int sv[2], path_before = getenv("PATH") ? 1 : 0;
  if (size > 8000) return 0;
  signal(SIGPIPE, SIG_IGN);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 0;
  if (write(sv[0], data, size) != (ssize_t)size) { close(sv[0]); close(sv[1]); return 0; }
  shutdown(sv[0], SHUT_WR);
  u.ctl = sv[1];
  u.rfd = open("/dev/null", O_RDONLY);
  u.wfd = open("/dev/null", O_WRONLY);
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, 1);
  if (ucspitls_start(&u, &info, &deadline))
  {
    size_t i = 0;
    FUZZ_ASSERT(u.ctl == -1);
    while (i < info.len)
    {
      char const *e = info.s + i;
      FUZZ_ASSERT(!strncmp(e, "SSL_", 4) && strchr(e, '='));
      i += strlen(e) + 1;
    }
  }
  else close(sv[1]);
  FUZZ_ASSERT((getenv("PATH") ? 1 : 0) == path_before);
  /* leave the environment as we found it for the next input */
  {
    size_t k = 0;
    while (environ[k])
    {
      if (!strncmp(environ[k], "SSL_", 4))
      {
        char name[80];
        size_t n = strcspn(environ[k], "=");
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, environ[k], n);
        name[n] = 0;
        unsetenv(name);
        k = 0;
      }
      else k++;
    }
  }
  close(sv[0]);
  close(u.rfd);
  close(u.wfd);
  stralloc_free(&info);
  return 0;
}
