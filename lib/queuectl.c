/* queuectl.c: finding the queue and poking tern-send, for the admin's tools. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "queuectl.h"

int queuectl_find(stralloc *sa)
{
  struct stat st;
  if (!tern_path(sa, "queue")) return -1;
  if (stat(sa->s, &st) < 0) return 0;
  if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return 0; }
  return 1;
}

void queuectl_require(void)
{
  stralloc q = STRALLOC_ZERO;
  int r = queuectl_find(&q);
  if (r < 0) strerr_diefu(111, "allocate");
  if (!r) strerr_diefusys(111, "find the queue at ", q.s, " (set TERN_HOME to the instance)");
  stralloc_free(&q);
}

int queuectl_trigger(char const *line)
{
  stralloc p = STRALLOC_ZERO;
  char buf[QUEUEID_LEN + 1];
  int fd, r = -1;
  struct stat st;
  if (strlen(line) != QUEUEID_LEN) { errno = EINVAL; return -1; }
  if (!tern_path(&p, "queue/trigger")) return -1;
  /* O_NONBLOCK: ENXIO when no tern-send has it open, never a hang */
  fd = open(p.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  stralloc_free(&p);
  if (fd < 0) return errno == ENXIO ? 0 : -1;
  if (fstat(fd, &st) < 0) goto end;
  if (!S_ISFIFO(st.st_mode)) { errno = EINVAL; goto end; }
  memcpy(buf, line, QUEUEID_LEN);
  buf[QUEUEID_LEN] = '\n';
  /* 17 bytes: one atomic write on a fifo */
  if (fd_write(fd, buf, sizeof buf) == sizeof buf) r = 1;
 end:
  fd_close(fd);
  return r;
}
