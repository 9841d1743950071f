/* send_sched.c: tern-send's choice of what to deliver next, the delivery
 * jobs it runs, and the durable record of each recipient's outcome. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/selfpipe.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "report.h"
#include "statefile.h"
#include "send.h"

unsigned int sched_running(sendq const *q)
{
  return q->nlocal + q->nremote;
}

void sched_log_status(sendq const *q)
{
  char a[UINT_FMT], b[UINT_FMT], c[UINT_FMT], d[UINT_FMT];
  a[uint_fmt(a, q->nlocal)] = 0; b[uint_fmt(b, q->c.conclocal)] = 0;
  c[uint_fmt(c, q->nremote)] = 0; d[uint_fmt(d, q->c.concremote)] = 0;
  send_log("status: local ", a, "/", b, " remote ", c, "/", d);
}

static job *free_slot(sendq *q)
{
  unsigned int i, n = q->c.conclocal + q->c.concremote;
  for (i = 0; i < n; i++) if (!q->jobs[i].pid) return q->jobs + i;
  return 0;
}

static void child(msg const *m, int qfd, int wfd, job const *j, char const *domain)
{
  char const *argv[SEND_JOB_RCPTS + 4];
  size_t n = 0, k;
  selfpipe_finish();
  signal(SIGPIPE, SIG_DFL);
  argv[n++] = j->local ? "tern-local" : "tern-remote";
  if (!j->local) argv[n++] = domain;
  argv[n++] = m->e.sender;
  for (k = 0; k < j->n; k++) argv[n++] = envelope_rcpt(&m->e, j->idx[k]);
  argv[n] = 0;
  /* fd 1: the job file (the run holds its lock) or the pipe */
  if (fd_move2(0, qfd, 1, wfd) < 0) _exit(111);
  exec(argv);
  strerr_warnwusys("run ", argv[0]);
  _exit(111);
}

/* Starts one delivery program for recipients idx[0..n) of m. */
static int job_start(sendq *q, msg *m, int local, size_t const *idx, size_t n, char const *domain)
{
  stralloc path = STRALLOC_ZERO;
  job *j = free_slot(q);
  int qfd, wfd;
  size_t k;
  char num[ULONG_FMT];
  if (!j || !statefile_path(&path, "mess", m->id)) { stralloc_free(&path); return 0; }
  qfd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (qfd < 0) { strerr_warnwusys("open msg ", m->id); return 0; }
  j->local = local;
  j->n = n;
  memcpy(j->idx, idx, n * sizeof *idx);
  wfd = job_report_fd(j, m->id);
  if (wfd < 0) { fd_close(qfd); return 0; }
  j->pid = fork();
  if (j->pid < 0)
  {
    j->pid = 0;
    fd_close(qfd);
    job_report_abort(j, wfd);
    strerr_warnwusys("fork");
    return 0;
  }
  if (!j->pid) child(m, qfd, wfd, j, domain);
  fd_close(qfd);
  if (j->pipe) fd_close(wfd);
  j->num = ++q->delivery;
  j->exited = 0;
  j->m = m;
  j->out.len = 0;
  num[ulong_fmt(num, j->num)] = 0;
  for (k = 0; k < n; k++)
  {
    m->r[idx[k]].busy = 1;
    send_log("starting delivery ", num, ": msg ", m->id, local ? " to local " : " to remote ",
             envelope_rcpt(&m->e, idx[k]));
  }
  m->busy += n;
  if (local) q->nlocal++; else q->nremote++;
  sched_log_status(q);
  return 1;
}

static int due(rcpt const *r, uint64_t now)
{
  return r->st.status != 'K' && r->st.status != 'D' && !r->busy && r->due <= now;
}

/* Starts what m has due: one tern-local run for its local recipients, one
 * tern-remote run per domain. 0 when it stopped because no slot was free. */
static void msg_start(sendq *q, msg *m, uint64_t now)
{
  size_t idx[SEND_JOB_RCPTS], n = 0, i, nr = envelope_nrcpt(&m->e);
  for (i = 0; i < nr && n < SEND_JOB_RCPTS && q->nlocal < q->c.conclocal; i++)
    if (m->r[i].local && due(m->r + i, now)) idx[n++] = i;
  if (n) job_start(q, m, 1, idx, n, 0);
  while (q->nremote < q->c.concremote)
  {
    char const *dom = 0;
    n = 0;
    for (i = 0; i < nr && n < SEND_JOB_RCPTS; i++)
    {
      char const *d;
      if (m->r[i].local || !due(m->r + i, now)) continue;
      d = send_domain(envelope_rcpt(&m->e, i));
      if (!dom) dom = d;
      if (!strcasecmp(dom, d)) idx[n++] = i;
    }
    if (!n || !job_start(q, m, 0, idx, n, dom)) break;
  }
}

void sched_start(sendq *q, uint64_t now)
{
  size_t i = 0;
  if (q->stopping) return;
  while (i < genalloc_len(msg *, &q->msgs))
  {
    msg *m = genalloc_s(msg *, &q->msgs)[i];
    if (q->nlocal >= q->c.conclocal && q->nremote >= q->c.concremote) break;
    if (!m->pending && !m->busy)
    {
      size_t before = genalloc_len(msg *, &q->msgs);
      if (m->bounce_due <= now) sendq_finish(q, m, now);
      if (genalloc_len(msg *, &q->msgs) < before) continue;
    }
    else if (m->pending > m->busy) msg_start(q, m, now);
    i++;
  }
}

uint64_t sched_next(sendq const *q, uint64_t now)
{
  uint64_t next = 0;
  size_t i, k;
  for (i = 0; i < genalloc_len(msg *, &q->msgs); i++)
  {
    msg const *m = genalloc_s(msg *, &q->msgs)[i];
    if (!m->pending && !m->busy && (!next || m->bounce_due < next)) next = m->bounce_due;
    if (m->pending <= m->busy) continue;
    for (k = 0; k < envelope_nrcpt(&m->e); k++)
    {
      rcpt const *r = m->r + k;
      if (r->st.status == 'K' || r->st.status == 'D' || r->busy) continue;
      if (r->local ? q->nlocal >= q->c.conclocal : q->nremote >= q->c.concremote) continue;
      if (!next || r->due < next) next = r->due;
    }
  }
  /* What is due now but was not started (no slot, fork failed) waits a second. */
  return next && next <= now ? now + 1 : next;
}
