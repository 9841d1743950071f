/* send_sched.c: tern-send's choice of what to deliver next and on which
 * run: a message's local recipients on a tern-local run, its remote ones
 * per domain on an idle tern-remote -b run of the same route (the
 * smtproutes relay, else the domain), else on a new run in a free slot. */
#include <string.h>
#include <strings.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
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

static unsigned int nslots(sendq const *q)
{
  return q->c.conclocal + q->c.concremote;
}

/* A batch run between two messages, still open. */
static int is_idle(job const *j)
{
  return j->pid > 0 && j->batch && !j->m && j->sock >= 0 && !j->exited;
}

static unsigned int count_idle(sendq const *q)
{
  unsigned int i, n = 0;
  for (i = 0; i < nslots(q); i++) n += is_idle(q->jobs + i);
  return n;
}

static job *free_slot(sendq *q)
{
  unsigned int i;
  for (i = 0; i < nslots(q); i++) if (!q->jobs[i].pid) return q->jobs + i;
  return 0;
}

/* An idle run for route, or (route 0) any idle run. */
static job *idle_run(sendq *q, char const *route)
{
  unsigned int i;
  for (i = 0; i < nslots(q); i++)
  {
    job *j = q->jobs + i;
    if (is_idle(j) && (!route || (j->route.len && !strcmp(j->route.s, route)))) return j;
  }
  return 0;
}

/* j carries recipients idx[0..n) of m from now on. */
static void job_taken(sendq *q, job *j, msg *m)
{
  char num[ULONG_FMT];
  size_t k;
  j->m = m;
  j->num = ++q->delivery;
  num[ulong_fmt(num, j->num)] = 0;
  for (k = 0; k < j->n; k++)
  {
    m->r[j->idx[k]].busy = 1;
    send_log("starting delivery ", num, ": msg ", m->id, j->local ? " to local " : " to remote ",
             envelope_rcpt(&m->e, j->idx[k]));
  }
  m->busy += j->n;
  sched_log_status(q);
}

static void job_set(job *j, int local, size_t const *idx, size_t n)
{
  j->local = local;
  j->n = n;
  memcpy(j->idx, idx, n * sizeof *idx);
}

static int start_local(sendq *q, msg *m, size_t const *idx, size_t n)
{
  job *j = free_slot(q);
  if (!j) return 0;
  job_set(j, 1, idx, n);
  if (!job_start_classic(j, m, 0)) return 0;
  q->nlocal++;
  job_taken(q, j, m);
  return 1;
}

/* Recipients idx[0..n) of m, all of domain dom: on an idle run of their
 * route, else a new run. 0 when nothing could take them now (an idle run
 * of another route is then closed to make room). */
static int start_remote(sendq *q, msg *m, size_t const *idx, size_t n, char const *dom, uint64_t now)
{
  stralloc route = STRALLOC_ZERO;
  int batch = q->c.remotebatch > 1 && send_route(&route, &q->c, dom);
  int r = 0;
  job *j = batch ? idle_run(q, route.s) : 0;
  if (j)
  {
    job_set(j, 0, idx, n);
    if (job_give(j, m, dom)) { q->nbatchmsgs++; job_taken(q, j, m); r = 1; goto end; }
  }
  j = q->nremote < q->c.concremote ? free_slot(q) : 0;
  if (!j)
  {
    /* every remote slot taken, some by runs idle for other routes */
    job *other = batch ? idle_run(q, 0) : 0;
    if (other) job_close(other);
    goto end;
  }
  job_set(j, 0, idx, n);
  if (batch && (r = job_start_batch(j, route.s, now, m, dom)))
  {
    q->nremote++;
    q->nbatch++;
    if (r > 0) { q->nbatchmsgs++; job_taken(q, j, m); }
    r = r > 0;
    goto end;
  }
  /* one-shot: remotebatch 1, or no job file for a batch run (disk full) */
  if (!job_start_classic(j, m, dom)) goto end;
  q->nremote++;
  job_taken(q, j, m);
  r = 1;
 end:
  stralloc_free(&route);
  return r;
}

static int due(rcpt const *r, uint64_t now)
{
  return r->st.status != 'K' && r->st.status != 'D' && !r->busy && r->due <= now;
}

static int remote_room(sendq const *q)
{
  return q->nremote < q->c.concremote || q->nidle;
}

/* Starts what m has due: one tern-local run for its local recipients, one
 * tern-remote delivery per domain. */
static void msg_start(sendq *q, msg *m, uint64_t now)
{
  size_t idx[SEND_JOB_RCPTS], n = 0, i, nr = envelope_nrcpt(&m->e);
  for (i = 0; i < nr && n < SEND_JOB_RCPTS && q->nlocal < q->c.conclocal; i++)
    if (m->r[i].local && due(m->r + i, now)) idx[n++] = i;
  if (n) start_local(q, m, idx, n);
  while (remote_room(q))
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
    if (!n || !start_remote(q, m, idx, n, dom, now)) break;
    q->nidle = count_idle(q);
  }
}

/* A message the admin removed or put on hold (tern-qsuper) while it was in
 * memory: found missing when it is next due, and forgotten, once. Its
 * state file stays for a held message (tern-qsuper -H brings it back). */
static int gone(sendq *q, msg *m, uint64_t now)
{
  size_t k;
  if (m->busy) return 0;
  for (k = 0; k < envelope_nrcpt(&m->e); k++) if (due(m->r + k, now)) break;
  if (k == envelope_nrcpt(&m->e) || sendq_mess_exists(m->id)) return 0;
  send_log("msg ", m->id, ": no longer in queue/mess (deleted or held by the admin): forgotten");
  sendq_forget(q, m);
  return 1;
}

void sched_start(sendq *q, uint64_t now)
{
  size_t i = 0;
  q->nidle = count_idle(q);
  if (q->stopping) return;
  while (i < genalloc_len(msg *, &q->msgs))
  {
    msg *m = genalloc_s(msg *, &q->msgs)[i];
    if (q->nlocal >= q->c.conclocal && !remote_room(q)) break;
    if (!m->pending && !m->busy)
    {
      size_t before = genalloc_len(msg *, &q->msgs);
      if (m->bounce_due <= now) sendq_finish(q, m, now);
      if (genalloc_len(msg *, &q->msgs) < before) continue;
    }
    else if (m->pending > m->busy)
    {
      if (gone(q, m, now)) continue;
      msg_start(q, m, now);
    }
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
      if (r->local ? q->nlocal >= q->c.conclocal : !remote_room(q)) continue;
      if (!next || r->due < next) next = r->due;
    }
  }
  /* What is due now but was not started (no slot, spawn failed) waits a second. */
  if (next && next <= now) next = now + 1;
  for (i = 0; i < nslots(q); i++)
  {
    job const *j = q->jobs + i;
    uint64_t t = j->idle_since + q->c.remoteidle;
    if (is_idle(j) && (!next || t < next)) next = t > now ? t : now;
  }
  return next;
}

void sched_idle(sendq *q, uint64_t now)
{
  unsigned int i;
  for (i = 0; i < nslots(q); i++)
  {
    job *j = q->jobs + i;
    if (is_idle(j) && (q->stopping || now >= j->idle_since + q->c.remoteidle || now >= j->born + q->c.remotelife))
      job_close(j);
  }
  q->nidle = count_idle(q);
}
