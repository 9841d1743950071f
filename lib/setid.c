/* setid.c: the caller-controlled process state a set-id program resets. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/auxv.h>
#include "setid.h"

int setid_secure(void)
{
  /* asked once: tern_home() asks per control file. A program that later
   * changes its ids keeps the answer of its start, the safe one. */
  static int secure = -1;
  if (secure < 0)
    secure = getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid();
  return secure;
}

int setid_fds(void)
{
  int fd, n, closed = 0;
  for (fd = 0; fd < 3; fd++)
  {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    if (errno != EBADF) return -1;
    /* the lowest free descriptor: fd itself, the lower ones being open */
    n = open("/dev/null", O_RDWR);
    if (n < 0) return -1;
    if (n != fd) { close(n); errno = EBADF; return -1; }
    closed |= 1 << fd;
  }
  return closed;
}

int setid_fd_ok(int fd, int write)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return 0;
  fl &= O_ACCMODE;
  return fl == O_RDWR || fl == (write ? O_WRONLY : O_RDONLY);
}

int setid_sigunblock(void)
{
  sigset_t none;
  sigemptyset(&none);
  return sigprocmask(SIG_SETMASK, &none, 0) == 0;
}

int setid_env_clear(void)
{
  return clearenv() == 0;
}
