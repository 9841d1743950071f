/* queuefile.c: the trailer that locates the envelope in a queue file. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/uint64.h>
#include "envelope.h"
#include "queuefile.h"

void queuefile_trailer(char *t, uint64_t msglen)
{
  int i;
  for (i = 19; i >= 0; i--) { t[i] = '0' + (char)(msglen % 10); msglen /= 10; }
  t[20] = '\n';
}

static int full_pread(int fd, char *s, size_t n, off_t off)
{
  while (n)
  {
    ssize_t r = pread(fd, s, n, off);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (!r) { errno = EPROTO; return 0; }
    s += r; n -= (size_t)r; off += r;
  }
  return 1;
}

int queuefile_read_envelope(int fd, stralloc *sa, uint64_t *msglen)
{
  struct stat st;
  char t[QUEUEFILE_TRAILER];
  uint64_t m = 0;
  size_t elen;
  int i, r;
  envelope e = ENVELOPE_ZERO;
  if (fstat(fd, &st) < 0) return -1;
  if (st.st_size < QUEUEFILE_TRAILER + 4) goto bad;
  r = full_pread(fd, t, sizeof t, st.st_size - QUEUEFILE_TRAILER);
  if (r <= 0) return r;
  if (t[20] != '\n') goto bad;
  for (i = 0; i < 20; i++)
  {
    if (t[i] < '0' || t[i] > '9') goto bad;
    m = m * 10 + (uint64_t)(t[i] - '0');
  }
  if (m > (uint64_t)st.st_size - QUEUEFILE_TRAILER) goto bad;
  elen = (size_t)((uint64_t)st.st_size - QUEUEFILE_TRAILER - m);
  sa->len = 0;
  if (!stralloc_ready(sa, elen)) return -1;
  r = full_pread(fd, sa->s, elen, (off_t)m);
  if (r <= 0) return r;
  sa->len = elen;
  r = envelope_parse(&e, sa->s, sa->len, 1);
  envelope_free(&e);
  if (r < 0) return -1;
  if (!r) goto bad;
  *msglen = m;
  return 1;
 bad:
  errno = EPROTO;
  return 0;
}
