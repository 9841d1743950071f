/* smtp_check.c: runs a checkpassword program for tern-smtpd's AUTH (user\0password\0\0 on its fd 3). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/sig.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "smtp_check.h"

/* The checkpassword interface's limit. */
#define CHECK_MAX 512

/* In the child: fd 3 reads the pipe, fds 0 and 1 are not the client
 * (the program must not talk to it), then exec. */
static void child(char const *const *prog, int fd)
{
  int null = open("/dev/null", O_RDONLY);
  if (fd == 3) { if (uncoe(3) < 0) _exit(111); }
  else if (fd_move(3, fd) < 0) _exit(111);
  if (null < 0 || fd_move(0, null) < 0 || fd_copy(1, 2) < 0) _exit(111);
  sig_restore(SIGPIPE);
  exec(prog);
  _exit(111);
}

/* Waits for pid until timeout seconds; kills it after that. */
static int reap(pid_t pid, unsigned int timeout)
{
  tain deadline, step;
  int wstat;
  tain_now_g();
  tain_addsec_g(&deadline, timeout);
  tain_from_millisecs(&step, 5);
  for (;;)
  {
    pid_t r = wait_pid_nohang(pid, &wstat);
    tain next;
    if (r == pid) break;
    if (r < 0) return -1;
    if (!tain_less(&STAMP, &deadline))
    {
      kill(pid, SIGKILL);
      wait_pid(pid, &wstat);
      return -1;
    }
    tain_add_g(&next, &step);
    deepsleepuntil_g(&next);
  }
  return WIFEXITED(wstat) ? WEXITSTATUS(wstat) : -1;
}

int smtp_auth_check(char const *const *prog, char const *user, char const *pass, unsigned int timeout)
{
  char buf[CHECK_MAX];
  size_t ul = strlen(user), pl = strlen(pass), n = ul + pl + 3;
  int p[2], r;
  pid_t pid;
  if (n > CHECK_MAX) return 1;  /* cannot be a real account */
  memcpy(buf, user, ul + 1);
  memcpy(buf + ul + 1, pass, pl + 1);
  buf[n - 1] = 0;
  if (pipecoe(p) < 0) return 2;
  pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); explicit_bzero(buf, sizeof buf); return 2; }
  if (!pid) child(prog, p[0]);
  close(p[0]);
  /* At most 512 bytes: one write into an empty pipe never blocks. */
  /* A short write leaves the program malformed input: it exits 2, we say 454. */
  allwrite(p[1], buf, n);
  close(p[1]);
  explicit_bzero(buf, sizeof buf);
  r = reap(pid, timeout);
  return r == 0 ? 0 : r == 1 ? 1 : 2;
}
