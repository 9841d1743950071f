/* Unit tests for lib/ucspitls.c against a fake engine on a socketpair. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "tap.h"
#include "ucspitls.h"

static int gotfd = -1;

/* Forks an engine that reads one byte on its end of the control socket,
 * then answers with reply[0..len) and closes. Returns the app's end; the
 * byte the engine got is read later with engine_got(). */
static int engine(char const *reply, size_t len)
{
  int sv[2], p[2];
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(p) < 0) exit(2);
  pid = fork();
  if (!pid)
  {
    char c = 0;
    close(sv[1]);
    if (read(sv[0], &c, 1) != 1) _exit(1);
    if (write(p[1], &c, 1) != 1 || (len && write(sv[0], reply, len) != (ssize_t)len)) _exit(1);
    _exit(0);
  }
  close(sv[0]); close(p[1]);
  gotfd = p[0];
  return sv[1];
}

static char engine_got(void)
{
  char c = 0;
  if (read(gotfd, &c, 1) != 1) c = 0;
  close(gotfd);
  while (wait(0) > 0) ;
  return c;
}

static void setfds(int ctl)
{
  char s[16];
  snprintf(s, sizeof s, "%d", ctl);
  setenv("SSLCTLFD", s, 1);
  setenv("SSLREADFD", "100", 1);
  setenv("SSLWRITEFD", "101", 1);
  unsetenv("SSL_PROTOCOL");
}

#define S(x) x, sizeof(x) - 1

/* Whatever follows the block stays unread, on a socket (read up to the
 * block's end after a peek) and on a fifo (one byte at a time). */
static void after_block(ucspitls *u, stralloc *info, tain const *deadline)
{
  char got[64], fifo[64] = "/tmp/tern-ucspitls-XXXXXX";   /* room for the "/f" added below */
  int sv[2], keep, fd;
  ssize_t r;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) exit(2);
  if (write(sv[0], S("SSL_PROTOCOL=T\0\0after")) != 21) exit(2);
  shutdown(sv[0], SHUT_WR);
  keep = dup(sv[1]);
  setfds(sv[1]); ucspitls_available(u);
  ok(ucspitls_start(u, info, deadline), "socket: block read");
  r = read(keep, got, sizeof got);
  ok(r == 5 && !memcmp(got, "after", 5), "socket: the bytes after the block are still there");
  close(keep); close(sv[0]);
  if (!mkdtemp(fifo) || !strcat(fifo, "/f") || mkfifo(fifo, 0600) < 0) exit(2);
  fd = open(fifo, O_RDWR | O_NONBLOCK);   /* both ends in one fd */
  if (fd < 0 || write(fd, S("SSL_PROTOCOL=T\0\0after")) != 21) exit(2);
  keep = dup(fd);
  setfds(fd); ucspitls_available(u);
  ok(ucspitls_start(u, info, deadline), "fifo: block read");
  r = read(keep, got, sizeof got);
  ok(r == 6 && !memcmp(got, "afterY", 6), "fifo: the bytes after the block are still there");
  close(keep);
  unlink(fifo);
  *strrchr(fifo, '/') = 0;
  rmdir(fifo);
}

int main(void)
{
  ucspitls u;
  stralloc info = STRALLOC_ZERO;
  tain deadline;
  int ctl;
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, 10);
  unsetenv("SSLCTLFD");
  ok(!ucspitls_available(&u), "no SSLCTLFD: not available");
  setenv("SSLCTLFD", "1", 1); setenv("SSLREADFD", "100", 1); setenv("SSLWRITEFD", "101", 1);
  ok(!ucspitls_available(&u), "fd 1 as control fd refused");

  ctl = engine(S("SSL_PROTOCOL=TLSv1.2\0SSL_CIPHER=X-Y\0\0"));
  setfds(ctl);
  ok(ucspitls_available(&u) && u.ctl == ctl && u.rfd == 100 && u.wfd == 101, "available, fds from the environment");
  dup2(0, 100); dup2(1, 101);
  ok(ucspitls_start(&u, &info, &deadline), "start");
  is_int(engine_got(), 'Y', "engine got 'Y'");
  is_str(ucspitls_get(&info, "SSL_CIPHER"), "X-Y", "cipher from the info block");
  ok(!ucspitls_get(&info, "SSL_CIPH"), "prefix of a name does not match");
  is_str(getenv("SSL_PROTOCOL"), "TLSv1.2", "environment: SSL_PROTOCOL set");
  ok(!getenv("SSLCTLFD") && !getenv("SSLREADFD"), "environment: UCSPI-TLS fds removed");
  ok(!ucspitls_available(&u), "TLS on: STARTTLS no longer available");

  ctl = engine(S("SSL_PROTOCOL=TLSv1.2\0"));
  setfds(ctl); ucspitls_available(&u);
  ok(!ucspitls_start(&u, &info, &deadline) && errno == EPIPE, "engine closes mid-block: EPIPE");
  engine_got();
  ctl = engine("", 0);
  setfds(ctl); ucspitls_available(&u);
  ok(!ucspitls_start(&u, &info, &deadline) && errno == EPIPE, "handshake failed (no answer): EPIPE");
  engine_got();
  ctl = engine(S("PATH=/evil\0\0"));
  setfds(ctl); ucspitls_available(&u);
  ok(!ucspitls_start(&u, &info, &deadline) && errno == EPROTO, "only SSL_ variables accepted");
  engine_got();
  ok(strcmp(getenv("PATH") ? getenv("PATH") : "", "/evil"), "PATH untouched");
  {
    static char big[5000];
    memset(big, 'A', sizeof big);
    ctl = engine(big, sizeof big);
    setfds(ctl); ucspitls_available(&u);
    ok(!ucspitls_start(&u, &info, &deadline) && errno == EPROTO, "block over 4 KiB: EPROTO");
    engine_got();
  }
  after_block(&u, &info, &deadline);
  return done_testing();
}
