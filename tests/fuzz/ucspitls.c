/* Fuzz the application side of UCSPI-TLS: the input is what tern-tlsd sends
 * back on the control fd after 'Y'. Only SSL_* variables may ever reach the
 * environment, and nothing after the block's end is read: the bytes behind
 * it must still be there afterwards. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/tai.h>
#include "fuzz.h"
#include "ucspitls.h"

extern char **environ;

static int devr = -1, devw = -1;
static int fifo = -1;   /* a control fd that is not a socket: the one-byte path */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static char dir[] = "/tmp/tern-fuzz-tls-XXXXXX";
  char path[64];
  (void)argc; (void)argv;
  signal(SIGPIPE, SIG_IGN);
  devr = open("/dev/null", O_RDONLY);
  devw = open("/dev/null", O_WRONLY);
  FUZZ_ASSERT(devr >= 0 && devw >= 0 && mkdtemp(dir));
  snprintf(path, sizeof path, "%s/ctl", dir);
  FUZZ_ASSERT(mkfifo(path, 0600) == 0);
  /* O_RDWR: one fd both ends, so 'Y' can be written; it never sees end of
   * file, so inputs that take this path get a deadline of now */
  fifo = open(path, O_RDWR | O_NONBLOCK);
  FUZZ_ASSERT(fifo >= 0);
  unlink(path);
  rmdir(dir);
  tain_now_set_stopwatch_g();
  return 0;
}

/* Everything left to read on fd (its peer has shut down, or it is the
 * non-blocking fifo). */
static size_t drain(int fd, char *s, size_t max)
{
  size_t n = 0;
  ssize_t r;
  while (n < max && (r = read(fd, s + n, max - n)) > 0) n += (size_t)r;
  return n;
}

static void env_reset(void)
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

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  static char stream[8001], left[8200];
  ucspitls u = { .rfd = devr, .wfd = devw };
  stralloc info = STRALLOC_ZERO;
  tain deadline;
  int sv[2] = { -1, -1 }, peer, ok, path_before = getenv("PATH") ? 1 : 0;
  int viafifo = size % 8 == 7, found = 0;
  size_t len = size, end, n, i;
  if (size > 8000) return 0;
  memcpy(stream, data, size);
  if (viafifo)
  {
    if (write(fifo, data, size) != (ssize_t)size) return 0;
    stream[len++] = 'Y';   /* our own 'Y' lands behind the input */
    peer = fifo;
    tain_copynow(&deadline);
  }
  else
  {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 0;
    if (write(sv[0], data, size) != (ssize_t)size) { close(sv[0]); close(sv[1]); return 0; }
    shutdown(sv[0], SHUT_WR);
    peer = sv[1];
    tain_addsec_g(&deadline, 1);
  }
  for (end = len, i = 0; i < len; i++) if (!stream[i] && (!i || !stream[i-1])) { end = i + 1; found = 1; break; }
  u.ctl = dup(peer);   /* ucspitls_start closes it on success */
  FUZZ_ASSERT(u.ctl >= 0);
  ok = ucspitls_start(&u, &info, &deadline);
  if (ok)
  {
    FUZZ_ASSERT(u.ctl == -1 && found && info.len == end - 1 && !memcmp(info.s, stream, info.len));
    for (i = 0; i < info.len; i += strlen(info.s + i) + 1)
      FUZZ_ASSERT(!strncmp(info.s + i, "SSL_", 4) && strchr(info.s + i, '='));
  }
  else close(u.ctl);
  /* what is left is a tail of the stream, never shorter than what follows
   * the block, and exactly that when the block was taken */
  n = drain(peer, left, sizeof left);
  FUZZ_ASSERT(n <= len && !memcmp(left, stream + len - n, n));
  FUZZ_ASSERT(n >= len - end);
  if (ok) FUZZ_ASSERT(n == len - end);
  FUZZ_ASSERT((getenv("PATH") ? 1 : 0) == path_before);
  env_reset();   /* leave the environment as we found it for the next input */
  if (!viafifo) { close(sv[0]); close(sv[1]); }
  stralloc_free(&info);
  return 0;
}
