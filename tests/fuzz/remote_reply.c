/* Fuzz tern-remote's SMTP client: the input is everything the server says
 * (greeting, EHLO answer, replies), read over a socket as from a real peer.
 * Every recipient must end with a status and a printable text, for each of
 * two messages over the one session. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fuzz.h"
#include "queuefile.h"
#include "../../remote/remote_conn.h"
#include "../../remote/remote_smtp.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  static char const msg[] = "Subject: fuzz\n\nbody\n.\nend\n";
  char const *rcpts[2] = { "a@fuzz.test", "b@fuzz.test" };
  rres res[2] = { { 0, STRALLOC_ZERO }, { 0, STRALLOC_ZERO } };
  stralloc why = STRALLOC_ZERO;
  smtpjob job;
  conn c;
  int sv[2], mfd, i;
  if (size > 60000) return 0;
  signal(SIGPIPE, SIG_IGN);   /* as tern-remote does */
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 0;
  {
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  }
  if (write(sv[0], data, size) != (ssize_t)size) { close(sv[0]); close(sv[1]); return 0; }
  shutdown(sv[0], SHUT_WR);
  mfd = memfd_create("m", 0);
  FUZZ_ASSERT(mfd >= 0 && write(mfd, msg, sizeof msg - 1) == sizeof msg - 1);
  memset(&job, 0, sizeof job);
  job.helo = "mx.tern.fuzz";
  job.sender = "s@tern.fuzz";
  job.rcpts = rcpts;
  job.nrcpt = 2;
  job.msgfd = mfd;
  job.msglen = sizeof msg - 1;
  memset(&c, 0, sizeof c);
  conn_attach(&c, sv[1], 1);
  {
    /* two messages over one session: the second after RSET */
    sess se;
    int m;
    memset(&se, 0, sizeof se);
    se.c = &c; se.job = &job; se.host = "fuzz.test [192.0.2.1]"; se.res = res; se.why = &why;
    i = smtp_open(&se, 0, 1);
    for (m = 0; m < 2 && i == SMTP_READY; m++)
    {
      if (!smtp_message(&se)) break;
      for (i = 0; i < 2; i++)
      {
        size_t k;
        FUZZ_ASSERT(res[i].status == 'K' || res[i].status == 'Z' || res[i].status == 'D');
        for (k = 0; k < res[i].text.len && res[i].text.s[k]; k++) ;
        res[i].status = 0;
      }
      i = SMTP_READY;
    }
    smtp_close(&se);
  }
  for (i = 0; i < 2; i++) stralloc_free(&res[i].text);
  stralloc_free(&why);
  stralloc_free(&c.out);
  close(sv[0]);
  close(sv[1]);
  close(mfd);
  return 0;
}
