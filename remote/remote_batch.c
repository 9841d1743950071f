/* remote_batch.c: tern-remote -b: jobs from tern-send over a socket, each
 * with its queue file, delivered over a connection kept between them. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "envelope.h"
#include "jobmsg.h"
#include "queuefile.h"
#include "report.h"
#include "remote_deliver.h"
#include "remote_batch.h"

/* Every recipient of the job gets the same temporary failure (a queue
 * file we cannot read: tern-send retries it later). */
static int all_temp(size_t n, char const *why)
{
  char buf[REPORT_TEXT_MAX + 2];
  buffer b = BUFFER_INIT(&buffer_write, 1, buf, sizeof buf);
  for (; n; n--) if (!report_put(&b, REPORT_TEMP, why) || !buffer_flush(&b)) return 0;
  return 1;
}

/* One job: the message in qfd to the recipients at j's positions. */
static int one_job(rdel *d, jobmsg const *j, int qfd)
{
  stralloc env = STRALLOC_ZERO, dom = STRALLOC_ZERO;
  envelope e = { 0 };
  char const *rcpts[JOBMSG_RCPTS], *rparams[JOBMSG_RCPTS];
  uint64_t msglen;
  size_t k;
  int ok;
  if (queuefile_read_envelope(qfd, &env, &msglen) <= 0 || envelope_parse(&e, env.s, env.len, 1) <= 0)
  {
    ok = all_temp(j->n, "tern-remote could not read the queue file");
    goto end;
  }
  for (k = 0; k < j->n; k++)
    if (j->idx[k] >= envelope_nrcpt(&e))
    {
      /* tern-send's own records are wrong: no delivery at all */
      ok = all_temp(j->n, "tern-send named a recipient the message does not have");
      goto end;
    }
    else { rcpts[k] = envelope_rcpt(&e, j->idx[k]); rparams[k] = envelope_rparams(&e, j->idx[k]); }
  if (!rdel_domain_norm(&dom, j->domain)) strerr_diefu(111, "allocate");
  ok = rdel_message(d, dom.s, e.sender, rcpts, j->n, qfd, msglen, e.mparams, rparams);
 end:
  envelope_free(&e);
  stralloc_free(&env);
  stralloc_free(&dom);
  return ok;
}

int rbatch_run(int sock)
{
  rdel d = RDEL_ZERO;
  char buf[JOBMSG_MAX + 1];
  /* SIGTERM to tern-send's process group: tern-send closes our socket;
   * until then the message in hand is finished and reported, not lost */
  if (sig_ignore(SIGTERM) < 0) strerr_diefusys(111, "ignore SIGTERM");
  for (;;)
  {
    jobmsg j;
    stralloc done = STRALLOC_ZERO;
    int qfd;
    ssize_t r = jobmsg_recv(sock, buf, sizeof buf, &qfd);
    if (!r) break;
    if (r < 0) strerr_diefusys(111, "read a job from tern-send");
    if (!jobmsg_parse(&j, buf, (size_t)r) || j.type != 'M' || qfd < 0)
      strerr_dief(111, "malformed job from tern-send");
    if (!one_job(&d, &j, qfd)) strerr_diefusys(111, "write the records of msg ", j.id);
    fd_close(qfd);
    j.type = 'D';
    if (!jobmsg_fmt(&done, &j)) strerr_diefu(111, "allocate");
    /* tern-send gone: the records are in the job file, where the next one reads them */
    if (jobmsg_send(sock, done.s, done.len, -1) < 0) { stralloc_free(&done); break; }
    stralloc_free(&done);
  }
  rdel_end(&d);
  return 0;
}
