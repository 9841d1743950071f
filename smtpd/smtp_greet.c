/* smtp_greet.c: the pause before the greeting (GREETDELAY), and the end of a client that talks during it.
 *
 * RFC 5321 (4.3.1, 4.5.3.2) has the client wait for our 220 before it
 * sends anything. Bulk-mail software often does not: it sends EHLO (or the
 * whole transaction) at once. A short silence before the greeting sorts
 * them out, at the cost of that much latency for well-behaved clients;
 * Postfix's postscreen does the same (PREGREET). Trusted clients
 * (RELAYCLIENT) are not made to wait. */
#include <errno.h>
#include <unistd.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "smtp_greet.h"
#include "smtp_log.h"

/* What an early talker gets: our reply, and a log line for the admin. */
static void early(smtp_io *io, smtp_conn const *cn, size_t n, tain const *start)
{
  char num[SIZE_FMT], ms[UINT_FMT], limit[UINT_FMT];
  tain el;
  tain_now_g();
  tain_sub(&el, &STAMP, start);
  num[size_fmt(num, n)] = 0;
  ms[uint_fmt(ms, (unsigned int)tain_to_millisecs(&el))] = 0;
  limit[uint_fmt(limit, cn->conf->greetdelay)] = 0;
  {
    char const *v[9] = { " ip=", cn->remoteip, " early talker: ", num, " bytes after ", ms,
                         " ms, before the greeting (GREETDELAY ", limit, " ms): dropped" };
    smtp_log(v, 9);
  }
  smtp_io_reply(io, "554 5.5.1 Protocol error: you spoke before my greeting; closing connection");
}

int smtp_greet_wait(smtp_io *io, smtp_conn const *cn)
{
  int fd = io->fdin;
  iopause_fd x = { .fd = fd, .events = IOPAUSE_READ, .revents = 0 };
  tain start, deadline, pause;
  char buf[4096];
  ssize_t r;
  if (!cn->conf->greetdelay || cn->relayclient) return 1;
  tain_now_g();
  start = STAMP;
  tain_from_millisecs(&pause, (int)cn->conf->greetdelay);
  tain_add_g(&deadline, &pause);
  for (;;)
  {
    int n = iopause_g(&x, 1, &deadline);
    if (!n) return 1;   /* silence: greet it */
    if (n < 0 && errno != EINTR) return 1;   /* cannot watch: greet as usual */
    if (n > 0) break;
  }
  r = read(fd, buf, sizeof buf);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
  if (r <= 0)
  {
    char const *v[3] = { " ip=", cn->remoteip, " left before the greeting" };
    smtp_log(v, 3);
    io->failed = 1;
    return 0;
  }
  early(io, cn, (size_t)r, &start);
  return 0;
}
