/* dkim_seal.c: talking to tern-dkimseal (dkim_seal.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "dkim_run.h"
#include "dkim_seal.h"

/* Reads up to n bytes, stopping early only at end of file; gives up after
 * SEAL_WAIT seconds in all. Returns the count, or -1 (errno). */
static ssize_t timed_read(int fd, char *buf, size_t n, tain const *deadline)
{
  size_t got = 0;
  while (got < n)
  {
    iopause_fd x = { .fd = fd, .events = IOPAUSE_READ };
    ssize_t r;
    int p = iopause_g(&x, 1, deadline);
    if (p < 0) return -1;
    if (!p) { errno = ETIMEDOUT; return -1; }
    r = fd_read(fd, buf + got, n - got);
    if (r < 0) { if (errno == EAGAIN) continue; return -1; }
    if (!r) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* "ALG LEN\n" lines, one per key, parsed strictly. */
static int parse_lines(dkim_seal *s, char const *buf, size_t n)
{
  unsigned int i;
  for (i = 0; i < s->n; i++)
  {
    char const *sp = memchr(buf, ' ', n), *nl = memchr(buf, '\n', n);
    size_t len;
    if (!sp || !nl || sp > nl || (size_t)(sp - buf) >= sizeof s->alg[i]) return 0;
    memcpy(s->alg[i], buf, (size_t)(sp - buf));
    s->alg[i][sp - buf] = 0;
    if (strcmp(s->alg[i], "rsa-sha256") && strcmp(s->alg[i], "ed25519-sha256")) return 0;
    if (size_scan(sp + 1, &len) != (size_t)(nl - sp - 1) || !len || len > DKIM_SIG_MAX) return 0;
    s->siglen[i] = len;
    n -= (size_t)(nl + 1 - buf);
    buf = nl + 1;
  }
  return !n;
}

/* Reads bytes up to the n-th LF, one read at a time (the lines are short
 * and nothing follows them until we write). */
static int read_lines(dkim_seal *s, tain const *deadline)
{
  char buf[64 * DKIM_MAXSEL];
  size_t got = 0;
  unsigned int lf = 0;
  while (lf < s->n)
  {
    ssize_t r = timed_read(s->rfd, buf + got, 1, deadline);
    if (r < 0) return 0;
    if (!r) { errno = ECHILD; return 0; }
    if (buf[got++] == '\n') lf++;
    if (got == sizeof buf) { errno = EPROTO; return 0; }
  }
  if (!parse_lines(s, buf, got)) { errno = EPROTO; return 0; }
  return 1;
}

int dkim_seal_start(dkim_seal *s, char const *prog, dkim_rule const *r)
{
  char const *argv[3 + DKIM_MAXSEL];
  int in[2], out[2];
  unsigned int i;
  tain deadline;
  argv[0] = prog;
  argv[1] = r->domain;
  for (i = 0; i < r->nsel; i++) argv[2 + i] = r->sel[i];
  argv[2 + i] = 0;
  s->n = r->nsel;
  if (pipecoe(in) < 0) return 0;
  if (pipecoe(out) < 0) { fd_close(in[0]); fd_close(in[1]); return 0; }
  s->pid = dkim_run_spawn(argv, in[0], out[1]);
  fd_close(in[0]);
  fd_close(out[1]);
  s->wfd = in[1];
  s->rfd = out[0];
  if (s->pid < 0) { fd_close(s->wfd); fd_close(s->rfd); return 0; }
  tain_now_g();
  tain_addsec_g(&deadline, SEAL_WAIT);
  if (read_lines(s, &deadline)) return 1;
  dkim_seal_abort(s);
  return 0;
}

int dkim_seal_finish(dkim_seal *s, unsigned char const *hashes, unsigned char (*sig)[DKIM_SIG_MAX])
{
  tain deadline;
  unsigned int i;
  char extra;
  size_t n = 32 * s->n;
  /* 32 bytes a key fit in the pipe: this write does not block */
  if (allwrite(s->wfd, (char const *)hashes, n) < n) { dkim_seal_abort(s); return 0; }
  fd_close(s->wfd);
  s->wfd = -1;
  tain_now_g();
  tain_addsec_g(&deadline, SEAL_WAIT);
  for (i = 0; i < s->n; i++)
  {
    ssize_t r = timed_read(s->rfd, (char *)sig[i], s->siglen[i], &deadline);
    if (r < 0 || (size_t)r != s->siglen[i]) { if (r >= 0) errno = ECHILD; dkim_seal_abort(s); return 0; }
  }
  if (timed_read(s->rfd, &extra, 1, &deadline) != 0) { errno = EPROTO; dkim_seal_abort(s); return 0; }
  fd_close(s->rfd);
  s->rfd = -1;
  if (dkim_run_wait(s->pid)) { errno = ECHILD; return 0; }
  return 1;
}

void dkim_seal_abort(dkim_seal *s)
{
  int e = errno;
  if (s->wfd >= 0) fd_close(s->wfd);
  if (s->rfd >= 0) fd_close(s->rfd);
  s->wfd = s->rfd = -1;
  /* it may be stuck: we are its real user, so we may end it */
  kill(s->pid, SIGKILL);
  dkim_run_wait(s->pid);
  errno = e;
}
