/* Unit tests for lib/queuefile.c: locating the envelope behind the message. */
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "queuefile.h"

static int mkfile(char const *msg, size_t mlen, char const *env, size_t elen, char const *trailer)
{
  char path[] = "/tmp/tern-qf-XXXXXX";
  int fd = mkstemp(path);
  char t[QUEUEFILE_TRAILER];
  unlink(path);
  if (write(fd, msg, mlen) != (ssize_t)mlen) return -1;
  if (write(fd, env, elen) != (ssize_t)elen) return -1;
  if (trailer) memcpy(t, trailer, sizeof t); else queuefile_trailer(t, mlen);
  if (write(fd, t, sizeof t) != sizeof t) return -1;
  return fd;
}

int main(void)
{
  stralloc sa = STRALLOC_ZERO;
  uint64_t m = 0;
  int fd;
  char t[QUEUEFILE_TRAILER];

  queuefile_trailer(t, 1234);
  ok(!memcmp(t, "00000000000000001234\n", 21), "trailer format");

  fd = mkfile("Subject: x\n\nhi\n", 15, "Fa@b\0Tc@d\0\0", 11, 0);
  is_int(queuefile_read_envelope(fd, &sa, &m), 1, "good file reads");
  is_int(m, 15, "message length");
  ok(sa.len == 11 && !memcmp(sa.s, "Fa@b\0Tc@d\0\0", 11), "envelope bytes");
  close(fd);

  fd = mkfile("x\n", 2, "Fa@b\0Tc@d\0", 10, 0);
  is_int(queuefile_read_envelope(fd, &sa, &m), 0, "truncated envelope refused");
  close(fd);

  fd = mkfile("x\n", 2, "Fa@b\0Tc@d\0\0", 11, "0000000000000000000x\n");
  is_int(queuefile_read_envelope(fd, &sa, &m), 0, "non-digit trailer refused");
  close(fd);

  fd = mkfile("x\n", 2, "Fa@b\0Tc@d\0\0", 11, "99999999999999999999\n");
  is_int(queuefile_read_envelope(fd, &sa, &m), 0, "length past the end refused");
  close(fd);

  fd = mkfile("", 0, "", 0, "00000000000000000000\n");
  is_int(queuefile_read_envelope(fd, &sa, &m), 0, "too short a file refused");
  close(fd);
  stralloc_free(&sa);
  return done_testing();
}
