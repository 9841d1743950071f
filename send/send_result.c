/* send_result.c: what a delivery reported, written to the state file
 * (fsync'd) before tern-send acts on it; the end of runs and of the runs an
 * earlier tern-send left (orphans). */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "report.h"
#include "statefile.h"
#include "send.h"

/* Status and text for the k-th recipient of job j. A missing record counts
 * as a temporary failure; a temporary failure after queuelifetime becomes
 * permanent. */
static char outcome(sendq const *q, job const *j, report const *r, size_t nr, size_t k,
                    uint64_t now, stralloc *text)
{
  char st = 'Z';
  text->len = 0;
  if (k < nr) { st = r[k].status; stralloc_cats(text, r[k].text); }
  else
  {
    char fmt[UINT_FMT];
    int code = WIFEXITED(j->wstat) ? WEXITSTATUS(j->wstat) : 256 + WTERMSIG(j->wstat);
    fmt[uint_fmt(fmt, (unsigned int)code)] = 0;
    stralloc_cats(text, j->local ? "tern-local" : "tern-remote");
    if (j->pid < 0) stralloc_cats(text, " gave no report for this recipient (it ran while tern-send restarted)");
    else
    {
      stralloc_cats(text, " gave no report for this recipient (exit status ");
      stralloc_cats(text, fmt);
      stralloc_cats(text, ")");
    }
  }
  if (st == 'Z' && now >= j->m->arrival + q->c.lifetime)
  {
    stralloc old = STRALLOC_ZERO;
    char fmt[UINT_FMT];
    fmt[uint_fmt(fmt, q->c.lifetime)] = 0;
    stralloc_catb(&old, text->s, text->len);
    text->len = 0;
    stralloc_cats(text, "4.4.7 message expired: undelivered for more than ");
    stralloc_cats(text, fmt);
    stralloc_cats(text, " seconds; last error: ");
    stralloc_catb(text, old.s, old.len);
    stralloc_free(&old);
    st = 'D';
  }
  stralloc_0(text);
  return st;
}

/* Did job j deliver every one of its recipients, and were they the last
 * ones m was waiting for, with no failure to bounce? */
static int last_and_all_ok(msg const *m, job const *j, char const *st)
{
  size_t k, i, n = envelope_nrcpt(&m->e);
  for (k = 0; k < j->n; k++) if (st[k] != 'K') return 0;
  if (m->pending != j->n || m->busy != j->n) return 0;
  for (i = 0; i < n; i++) if (m->r[i].st.status == 'D') return 0;
  return 1;
}

static void log_result(job const *j, char st, char const *addr, char const *text)
{
  char num[ULONG_FMT];
  num[ulong_fmt(num, j->num)] = 0;
  send_log("delivery ", num, ": ", st == 'K' ? "success" : st == 'Z' ? "deferral" : "failure",
           ": ", addr, ": ", text);
}

/* relay=: "local", the host tern-remote names before " said: " (its
 * blanks removed: "mx.example[192.0.2.1]"), else "none". */
static void relay_of(char *out, size_t max, int local, char const *text)
{
  char const *said = local ? 0 : strstr(text, " said: "), *b = text, *c;
  size_t n = 0;
  if (local) { strcpy(out, "local"); return; }
  if (!said) { strcpy(out, "none"); return; }
  /* the last word before " said: ", with the "[ip]" word after a name */
  for (c = text; c < said; c++) if (*c == ' ' && c + 1 < said && c[1] != '[') b = c + 1;
  for (; b < said && n + 1 < max; b++) if (*b != ' ') out[n++] = *b;
  out[n] = 0;
  if (!n) strcpy(out, "none");
}

/* The outcome line of one recipient (docs/logs.md, issue 19 reads it):
 * "msg ID: to=<A> relay=R delay=S tries=N dsn=X.Y.Z status=S (TEXT)". */
static void log_status(msg const *m, job const *j, size_t k, char st, unsigned int tries, uint64_t now, char const *text)
{
  char relay[256], dsn[16], delay[UINT64_FMT], ntries[UINT_FMT];
  char const *status = st == 'K' ? "sent" : st == 'Z' ? "deferred"
                     : !strncmp(text, "4.4.7 message expired", 21) ? "expired" : "bounced";
  relay_of(relay, sizeof relay, j->local, text);
  if (st == 'K' || !bounce_status(dsn, text)) strcpy(dsn, st == 'K' ? "2.0.0" : st == 'Z' ? "4.0.0" : "5.0.0");
  delay[uint64_fmt(delay, now > m->arrival ? now - m->arrival : 0)] = 0;
  ntries[uint_fmt(ntries, tries)] = 0;
  send_log("msg ", m->id, ": to=<", envelope_rcpt(&m->e, j->idx[k]), "> relay=", relay, " delay=", delay,
           " tries=", ntries, " dsn=", dsn, " status=", status, " (", text, ")");
}

/* Under the active limit, with messages waiting on disk: a message that
 * waits for its next retry leaves memory, and its state file's mtime says
 * when that is, so no scan loads it before (send_queue.c). */
static void evict(sendq *q, msg *m, uint64_t now)
{
  stralloc path = STRALLOC_ZERO;
  struct timespec ts[2];
  uint64_t next = 0;
  size_t i;
  for (i = 0; i < envelope_nrcpt(&m->e); i++)
  {
    rcpt const *r = m->r + i;
    if (r->st.status == 'K' || r->st.status == 'D') continue;
    if (!next || r->due < next) next = r->due;
  }
  if (next <= now || m->bounce_due > now) return;
  ts[0].tv_sec = ts[1].tv_sec = (time_t)next;
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (queueid_path(&path, "state", m->id) && utimensat(AT_FDCWD, path.s, ts, 0) == 0)
  {
    q->evicted = 1;
    send_log("msg ", m->id, ": deferred, left on disk until its next try (queueactive)");
    sendq_forget(q, m);
  }
  stralloc_free(&path);
}

/* Records what j reported for its message (j->out) durably, then in
 * memory; the message is finished when nothing is left. */
static void record(sendq *q, job *j, uint64_t now)
{
  report r[SEND_JOB_RCPTS];
  stralloc rec = STRALLOC_ZERO, path = STRALLOC_ZERO;
  stralloc *texts = 0;
  msg *m = j->m;
  size_t nr, k;
  int bad;
  nr = report_parse(r, j->n, j->out.s, j->out.len, &bad);
  if (bad)
  {
    char num[ULONG_FMT];
    num[ulong_fmt(num, j->num)] = 0;
    strerr_warnw("delivery ", num, ": malformed report from ", j->local ? "tern-local" : "tern-remote");
  }
  texts = calloc(j->n, sizeof *texts);
  if (!texts) strerr_diefu(111, "record delivery results: out of memory");
  {
    char st[SEND_JOB_RCPTS];
    for (k = 0; k < j->n; k++)
    {
      st[k] = outcome(q, j, r, nr, k, now, texts + k);
      if (!statefile_fmt(&rec, st[k], j->idx[k], now, texts[k].s))
        strerr_diefu(111, "record delivery results: out of memory");
    }
    /* Durable first: the next start must not deliver these again. When this
     * job delivered the last recipients of the message, the removal of
     * mess/HH/ID (fsync'd) is that record, and the state file is skipped. */
    if (!last_and_all_ok(m, j, st)
     && (!queueid_path(&path, "state", m->id) || statefile_append(path.s, rec.s, rec.len) < 0))
      strerr_warnwusys("record the results of msg ", m->id, " (they may be delivered again)");
    for (k = 0; k < j->n; k++)
    {
      rcpt *x = m->r + j->idx[k];
      log_status(m, j, k, st[k], x->st.tries + 1, now, texts[k].s);
      x->busy = 0;
      x->st.status = st[k];
      x->st.last = now;
      x->st.text = m->texts.len;
      if (!stralloc_catb(&m->texts, texts[k].s, texts[k].len)) x->st.text = (size_t)-1;
      if (st[k] == 'Z') x->due = now + sendconf_delay(&q->c, ++x->st.tries);
      else m->pending--;
      log_result(j, st[k], envelope_rcpt(&m->e, j->idx[k]), texts[k].s);
      stralloc_free(texts + k);
    }
  }
  free(texts);
  stralloc_free(&rec);
  stralloc_free(&path);
  m->busy -= j->n;
  j->m = 0;
  if (m->pending && !m->warned) sendq_delay_warn(q, m, now);
  if (!m->pending && !m->busy) sendq_finish(q, m, now);
  else if (q->overflow && m->pending && !m->busy) evict(q, m, now);
}

void sched_evict(sendq *q, uint64_t now)
{
  size_t i = genalloc_len(msg *, &q->msgs);
  while (i--)
  {
    msg *m = genalloc_s(msg *, &q->msgs)[i];
    if (m->pending && !m->busy) evict(q, m, now);
  }
}

/* The slot of j is free again. */
static void release(sendq *q, job *j)
{
  if (j->local) q->nlocal--; else q->nremote--;
  j->pid = 0;
  j->m = 0;
  j->batch = 0;
  job_close(j);
  sched_log_status(q);
}

void sched_message_done(sendq *q, job *j, uint64_t now)
{
  job_collect(j);
  /* durable in the state file before the job file is emptied */
  record(q, j, now);
  job_reset(j);
  j->done = 0;
  if (q->stopping || j->count >= q->c.remotebatch || now >= j->born + q->c.remotelife || !q->c.remoteidle)
    job_close(j);
  else j->idle_since = now;
}

void sched_run_end(sendq *q, job *j, uint64_t now)
{
  if (j->m)
  {
    job_collect(j);
    record(q, j, now);
    job_reset(j);
  }
  release(q, j);
}

/* Attaches the orphans that carry recipients of m (recovered at start). */
static void orphans_attach(sendq *q, msg *m)
{
  size_t i, k, n = genalloc_len(job, &q->orphans);
  for (i = 0; i < n; i++)
  {
    job *o = genalloc_s(job, &q->orphans) + i;
    char num[ULONG_FMT];
    if (o->m || !o->n || strcmp(o->id, m->id)) continue;
    for (k = 0; k < o->n; k++)
    {
      rcpt const *r = o->idx[k] < envelope_nrcpt(&m->e) ? m->r + o->idx[k] : 0;
      if (!r || r->busy || r->st.status == 'K' || r->st.status == 'D') break;
    }
    if (k < o->n) continue;   /* not this message's run after all: recorded, not tracked */
    o->m = m;
    o->num = ++q->delivery;
    num[ulong_fmt(num, o->num)] = 0;
    for (k = 0; k < o->n; k++)
    {
      m->r[o->idx[k]].busy = 1;
      send_log("delivery ", num, ": msg ", m->id, o->local ? " to local " : " to remote ",
               envelope_rcpt(&m->e, o->idx[k]), ", started by an earlier tern-send");
    }
    m->busy += o->n;
    if (o->local) q->nlocal++; else q->nremote++;
  }
}

void sched_fresh(sendq *q, uint64_t now)
{
  size_t n;
  while ((n = genalloc_len(msg *, &q->fresh)))
  {
    msg *m = genalloc_s(msg *, &q->fresh)[n - 1];
    genalloc_setlen(msg *, &q->fresh, n - 1);
    if (genalloc_len(job, &q->orphans)) orphans_attach(q, m);
    if (!m->pending) sendq_finish(q, m, now);
  }
}

size_t sched_orphans(sendq *q, uint64_t now)
{
  size_t i = 0;
  while (i < genalloc_len(job, &q->orphans))
  {
    job *o = genalloc_s(job, &q->orphans) + i;
    if (!orphan_ended(o)) { i++; continue; }
    if (o->m)
    {
      job_collect(o);
      record(q, o, now);
      job_reset(o);
      if (o->local) q->nlocal--; else q->nremote--;
      sched_log_status(q);
    }
    else
    {
      /* not attached (its message is not loaded, or not as the file says):
       * its records still go to the state file, which the next start reads */
      job_record(o, now);
      job_file_drop(o);
    }
    orphan_drop(q, i);
  }
  return genalloc_len(job, &q->orphans);
}
