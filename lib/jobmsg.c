/* jobmsg.c: format, parse, send and receive tern-send's batch records. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/types.h>
#include "jobmsg.h"

int jobmsg_fmt(stralloc *sa, jobmsg const *j)
{
  size_t k;
  if (!queueid_is(j->id)) return 0;
  if (!stralloc_catb(sa, &j->type, 1) || !stralloc_cats(sa, j->id)) return 0;
  if (j->type == 'D') return 1;
  if (j->type != 'M' || !j->n || j->n > JOBMSG_RCPTS) return 0;
  if (!stralloc_catb(sa, " ", 1) || !stralloc_cats(sa, j->domain)) return 0;
  for (k = 0; k < j->n; k++)
  {
    char fmt[SIZE_FMT];
    if (!stralloc_catb(sa, " ", 1) || !stralloc_catb(sa, fmt, size_fmt(fmt, j->idx[k]))) return 0;
  }
  return 1;
}

/* One decimal number without sign or leading zero, ending at a ' ' or the
 * end. Its length, 0 if none. */
static size_t num_scan(char const *s, size_t n, size_t *v)
{
  size_t i = 0;
  *v = 0;
  if (!n || s[0] < '0' || s[0] > '9' || (s[0] == '0' && n > 1 && s[1] != ' ')) return 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
  {
    if (*v > ((size_t)-1 - 9) / 10 || i >= 18) return 0;
    *v = *v * 10 + (size_t)(s[i] - '0');
  }
  return i < n && s[i] != ' ' ? 0 : i;
}

int jobmsg_parse(jobmsg *j, char const *s, size_t n)
{
  size_t i, d;
  memset(j, 0, sizeof *j);
  if (n < 1 + QUEUEID_LEN || (s[0] != 'M' && s[0] != 'D') || !queueid_hex(s + 1)) return 0;
  j->type = s[0];
  memcpy(j->id, s + 1, QUEUEID_LEN);
  i = 1 + QUEUEID_LEN;
  if (j->type == 'D') return i == n;
  if (i >= n || s[i++] != ' ') return 0;
  for (d = 0; i + d < n && s[i + d] != ' '; d++)
  {
    unsigned char c = (unsigned char)s[i + d];
    if (c <= 32 || c == 127 || d >= JOBMSG_DOMAIN_MAX) return 0;
  }
  if (!d) return 0;
  memcpy(j->domain, s + i, d);
  i += d;
  while (i < n)
  {
    size_t v, k, len;
    if (s[i++] != ' ' || j->n >= JOBMSG_RCPTS) return 0;
    len = num_scan(s + i, n - i, &v);
    if (!len) return 0;
    for (k = 0; k < j->n; k++) if (j->idx[k] == v) return 0;
    j->idx[j->n++] = v;
    i += len;
  }
  return j->n > 0;
}

int jobmsg_sendv(int sock, char const *s, size_t n, int const *fds, unsigned int nfds)
{
  struct iovec v = { .iov_base = (void *)s, .iov_len = n };
  union { struct cmsghdr h; char buf[CMSG_SPACE(JOBMSG_FDS_MAX * sizeof(int))]; } u;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
  if (nfds > JOBMSG_FDS_MAX) { errno = EINVAL; return -1; }
  if (nfds)
  {
    struct cmsghdr *c;
    memset(&u, 0, sizeof u);
    m.msg_control = u.buf;
    m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  for (;;)
  {
    ssize_t r = sendmsg(sock, &m, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if ((size_t)r != n) { errno = EPROTO; return -1; }
    return 1;
  }
}

int jobmsg_send(int sock, char const *s, size_t n, int fd)
{
  return jobmsg_sendv(sock, s, n, &fd, fd >= 0);
}

/* Takes the fds of a control message: the first max into fds, the others
 * closed; returns how many there were. */
static size_t fds_take(struct msghdr *m, int *fds, unsigned int max)
{
  struct cmsghdr *c;
  size_t count = 0;
  for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
  {
    size_t k, nfd;
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (k = 0; k < nfd; k++)
    {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
      if (count < max) fds[count] = fd;
      else close(fd);
      count++;
    }
  }
  return count;
}

ssize_t jobmsg_recvv(int sock, char *buf, size_t max, int *fds, unsigned int *nfds, unsigned int maxfds)
{
  struct iovec v = { .iov_base = buf, .iov_len = max };
  union { struct cmsghdr h; char buf[CMSG_SPACE((JOBMSG_FDS_MAX + 4) * sizeof(int))]; } u;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  ssize_t r;
  size_t nfd, k;
  *nfds = 0;
  if (maxfds > JOBMSG_FDS_MAX) maxfds = JOBMSG_FDS_MAX;
  for (;;)
  {
    r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (r >= 0 || errno != EINTR) break;
  }
  if (r < 0) return -1;
  nfd = fds_take(&m, fds, maxfds);
  /* a cut packet or cut control data is never half-used */
  if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfd > maxfds || (r == 0 && nfd))
  {
    for (k = 0; k < nfd && k < maxfds; k++) close(fds[k]);
    errno = EPROTO;
    return -1;
  }
  *nfds = (unsigned int)nfd;
  return r;
}

ssize_t jobmsg_recv(int sock, char *buf, size_t max, int *fd)
{
  int got = -1;
  unsigned int n;
  ssize_t r = jobmsg_recvv(sock, buf, max, &got, &n, fd ? 1 : 0);
  if (fd) *fd = r >= 0 && n ? got : -1;
  return r;
}
