/* tern-send: the scheduler: runs tern-local and tern-remote for every queued
 * message until each recipient is delivered or bounced.
 *
 * Interface: no arguments; reads $TERN_HOME/queue (mess/, state/, tmp/,
 * trigger) and control/; runs `tern-local SENDER RCPT...` and
 * `tern-remote DOMAIN SENDER RCPT...` with the queue file on fd 0, and
 * batch runs `tern-remote -b` given one message at a time over a socket
 * (lib/jobmsg.h), each with its slot's job file (queue/job/, send_job.c) on
 * fd 1, where they write their K/Z/D records (lib/report.h); queues
 * bounces with tern-queue.
 * docs/delivery.md has the schedule, the state file and the bounce format.
 *
 * SECURITY: runs as the scheduler user; it parses no network input, only
 * the queue (written by tern-queue) and bounded reports from its children.
 * Addresses are passed as argv elements, never through a shell. */
#define _GNU_SOURCE   /* F_GETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "control.h"
#include "qinject.h"
#include "report.h"
#include "send.h"

#define USAGE "tern-send"
/* Half the fifo's size in one drain counts as "may have been full": a fifo
 * refuses a write before it holds its size in bytes (Linux fills it by
 * pages: 17-byte lines fill 64 KiB at 65,280), and that many new messages
 * between two drains make a full scan cheap anyway. */
static size_t trigger_full(int trig)
{
  int sz = fcntl(trig, F_GETPIPE_SZ);
  return sz > 0 ? (size_t)sz / 2 : 32768;
}

static int trigger_open(void)
{
  stralloc p = STRALLOC_ZERO;
  int fd;
  if (!tern_path(&p, "queue/trigger")) strerr_diefu(111, "allocate");
  if (mkfifo(p.s, 0622) < 0 && errno != EEXIST) strerr_diefusys(111, "create ", p.s);
  fd = open(p.s, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) strerr_diefusys(111, "open ", p.s);
  {
    /* a regular file there would always read as ready: a busy loop */
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) strerr_dief(111, p.s, " is not a fifo");
  }
  /* Our own writer keeps the fifo from reporting EOF when tern-queue closes. */
  if (open(p.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC) < 0) strerr_diefusys(111, "open ", p.s, " for writing");
  stralloc_free(&p);
  return fd;
}

/* Every deferred recipient is due now (tern-qflush, sendmail -q, SIGALRM:
 * `s6-svc -a`), as qmail-send's ALRM. The messages left on disk under the
 * active limit are read again too, their retry time ignored. */
static void flush(sendq *q, uint64_t now)
{
  size_t i, k, n = 0;
  int evicted = q->evicted;
  char fmt[UINT64_FMT];
  q->evicted = 0;
  sendq_scan(q, now);
  q->evicted = evicted;
  for (i = 0; i < genalloc_len(msg *, &q->msgs); i++)
  {
    msg *m = genalloc_s(msg *, &q->msgs)[i];
    for (k = 0; k < envelope_nrcpt(&m->e); k++)
    {
      rcpt *r = m->r + k;
      if (r->st.status == 'K' || r->st.status == 'D' || r->busy) continue;
      if (r->due > now) { r->due = now; n++; }
    }
    if (m->bounce_due > now) m->bounce_due = now;
  }
  fmt[uint64_fmt(fmt, (uint64_t)n)] = 0;
  send_log("flush: ", fmt, " deferred recipients are tried now");
}

/* queue/trigger holds "ID\n" per new message (tern-queue, tern-queued:
 * lib/queuewrite.c): each is loaded alone, which at 100,000 queued saves a
 * scan of the whole queue (~75 ms of CPU) per message. 1 when a full scan is needed instead: a line that
 * is not an ID (an older writer's byte), or a fifo that may have been full
 * (a writer that found it full dropped its ID). */
static int trigger_read(sendq *q, int trig, uint64_t now)
{
  char buf[4096 + QUEUEID_LEN + 1];
  size_t have = 0, total = 0;
  int full = 0;
  for (;;)
  {
    size_t i = 0;
    ssize_t r = read(trig, buf + have, 4096);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    total += (size_t)r;
    if (full) continue;   /* drained and dropped: the scan finds them all */
    have += (size_t)r;
    for (; !full && have - i > QUEUEID_LEN; i += QUEUEID_LEN + 1)
    {
      char *id = buf + i;
      if (id[QUEUEID_LEN] != '\n') { full = 1; break; }
      id[QUEUEID_LEN] = 0;
      if (!queueid_is(id)) full = 1;
      else if (!strcmp(id, QUEUEID_FLUSH)) flush(q, now);   /* tern-qflush: never a message's ID */
      else sendq_scan_id(q, id, now);
    }
    memmove(buf, buf + i, have - i);   /* a line split across two reads */
    have -= i;
  }
  return full || have || total >= trigger_full(trig);
}

/* A full scan costs about a millisecond per thousand messages queued
 * (75 ms at 100,000 here), so one every queued/1000 seconds (5 to 300)
 * keeps its CPU near a millisecond a second at any queue size, and bounds
 * the wait of a message whose trigger line was lost (tern-queue or
 * tern-queued killed between its commit and its write to the fifo) to
 * that. */
static uint64_t rescan_every(sendq const *q)
{
  uint64_t t = (uint64_t)genalloc_len(msg *, &q->msgs) / 1000;
  return t < SEND_RESCAN_MIN ? SEND_RESCAN_MIN : t > SEND_RESCAN ? SEND_RESCAN : t;
}

static void on_signals(sendq *q)
{
  for (;;)
  {
    int sig = selfpipe_read();
    if (sig < 0) strerr_diefusys(111, "read the selfpipe");
    if (!sig) return;
    if (sig == SIGCHLD)
    {
      int wstat;
      pid_t pid;
      while ((pid = wait_nohang(&wstat)) > 0)
      {
        unsigned int i;
        for (i = 0; i < q->c.conclocal + q->c.concremote; i++)
          if (q->jobs[i].pid == pid) { q->jobs[i].exited = 1; q->jobs[i].wstat = wstat; }
      }
    }
    else if (sig == SIGTERM || sig == SIGINT)
    {
      if (!q->stopping) send_log("exiting once the running deliveries finish");
      q->stopping = 1;
    }
    else if (sig == SIGALRM) flush(q, (uint64_t)time(0));
    else if (sig == SIGHUP)
    {
      /* Concurrency keeps its value from the start (the job table). */
      unsigned int cl = q->c.conclocal, cr = q->c.concremote;
      if (sendconf_load(&q->c) < 0) strerr_warnwusys("reload the control files");
      q->c.conclocal = cl;
      q->c.concremote = cr;
      send_log("control files reloaded");
    }
  }
}

/* How well batching worked, for the admin (and bench/): at exit. */
static void log_batches(sendq const *q)
{
  char a[ULONG_FMT], b[ULONG_FMT];
  if (!q->nbatch) return;
  a[ulong_fmt(a, q->nbatch)] = 0;
  b[ulong_fmt(b, q->nbatchmsgs)] = 0;
  send_log("tern-remote batch runs: ", a, ", messages given to them: ", b);
}

static void log_loaded(sendq const *q)
{
  char a[ULONG_FMT], b[UINT_FMT];
  a[ulong_fmt(a, (unsigned long)genalloc_len(msg *, &q->msgs))] = 0;
  b[uint_fmt(b, q->c.active)] = 0;
  send_log("queue read: ", a, " messages in memory", q->overflow ? ", more left on disk (queueactive " : "",
           q->overflow ? b : "", q->overflow ? ")" : "");
}

/* Prepare: what can start now, and when to wake up. */
static uint64_t prepare(sendq *q, uint64_t now, uint64_t lastscan, uint64_t lastclean, uint64_t stop_at)
{
  uint64_t next, wake;
  sched_idle(q, now);
  sched_start(q, now);
  next = sched_next(q, now);
  wake = lastscan + rescan_every(q);
  if (lastclean + SEND_TMP_AGE < wake) wake = lastclean + SEND_TMP_AGE;
  if (next && next < wake) wake = next;
  if (stop_at && stop_at < wake) wake = stop_at;
  /* a run an earlier tern-send started is not our child: its end shows
   * only as its job file's lock coming free */
  if ((genalloc_len(job, &q->orphans) || q->rescan || (q->overflow && genalloc_len(msg *, &q->msgs) < q->c.active))
      && now + 1 < wake) wake = now + 1;
  if (q->scan_hh < 256) wake = now;   /* the first scan goes on between deliveries */
  return wake;
}

/* Under the active limit, with messages left on disk: a scan once room
 * frees (at once when half of it is free, else at most once a second). */
static int overflow_scan(sendq const *q, uint64_t now, uint64_t lastscan)
{
  size_t n = genalloc_len(msg *, &q->msgs);
  return q->overflow && n < q->c.active && (n <= q->c.active / 2 || now > lastscan);
}

static void loop(sendq *q, int trig, int spfd)
{
  unsigned int njobs = q->c.conclocal + q->c.concremote;
  iopause_fd *x = calloc(njobs + 2, sizeof *x);
  job **who = calloc(njobs + 2, sizeof *who);
  uint64_t lastscan = (uint64_t)time(0), lastclean = lastscan, stop_at = 0;
  if (!x || !who) strerr_diefu(111, "allocate");
  for (;;)
  {
    uint64_t now = (uint64_t)time(0), wake;
    unsigned int n = 0, i;
    tain deadline;
    if (q->stopping && !stop_at) stop_at = now + SEND_STOP_WAIT;
    if (q->stopping && (!sched_running(q) || now >= stop_at)) break;
    wake = prepare(q, now, lastscan, lastclean, stop_at);
    x[n].fd = spfd; x[n++].events = IOPAUSE_READ;
    x[n].fd = trig; x[n++].events = IOPAUSE_READ;
    for (i = 0; i < njobs; i++)
    {
      job *j = q->jobs + i;
      int fd = !j->pid ? -1 : j->pipe ? j->pfd : j->batch ? j->sock : -1;
      if (fd >= 0) { who[n] = j; x[n].fd = fd; x[n++].events = IOPAUSE_READ; }
    }
    tain_now_g();
    tain_addsec_g(&deadline, wake > now ? (int)(wake - now) : 0);
    if (iopause_g(x, n, &deadline) < 0) strerr_diefusys(111, "iopause");
    now = (uint64_t)time(0);
    /* do: signals, reports, new messages, ends */
    if (x[0].revents & IOPAUSE_READ) on_signals(q);
    for (i = 2; i < n; i++)
      if (x[i].revents) { if (who[i]->pipe) job_pipe_read(who[i]); else job_sock_read(who[i]); }
    if (genalloc_len(job, &q->orphans)) sched_orphans(q, now);
    if (q->scan_hh < 256)
    {
      sendq_scan_some(q, now, SEND_SCAN_EARLY);
      lastscan = now;
      if (q->scan_hh == 256) log_loaded(q);
    }
    else if ((x[1].revents & IOPAUSE_READ && trigger_read(q, trig, now)) || now >= lastscan + rescan_every(q)
     || (q->rescan && now > lastscan) || overflow_scan(q, now, lastscan))
    {
      q->rescan = 0;
      sendq_scan(q, now);
      lastscan = now;
    }
    if (q->scan_hh < 256 && x[1].revents & IOPAUSE_READ) trigger_read(q, trig, now);
    sched_fresh(q, now);
    if (q->overflow && genalloc_len(msg *, &q->msgs) >= q->c.active && now > q->evict_at)
    {
      q->evict_at = now;
      sched_evict(q, now);
    }
    if (now >= lastclean + SEND_TMP_AGE) { sendq_cleanup(now, 0); lastclean = now; }
    for (i = 0; i < njobs; i++)
    {
      job *j = q->jobs + i;
      if (j->pid > 0 && j->batch && j->done) sched_message_done(q, j, now);
      if (j->pid > 0 && j->exited && (!j->pipe || j->pfd < 0)) sched_run_end(q, j, now);
    }
  }
  if (sched_running(q))
  {
    char fmt[UINT_FMT];
    fmt[uint_fmt(fmt, sched_running(q))] = 0;
    strerr_warnw("exiting with ", fmt, " deliveries still running: the next tern-send reads their results");
  }
  /* the idle slots' files; a running one's stays for the next tern-send */
  {
    unsigned int k;
    for (k = 0; k < njobs; k++) if (!q->jobs[k].pid) job_file_drop(q->jobs + k);
  }
  log_batches(q);
  free(x);
  free(who);
}

int main(int argc, char const *const *argv)
{
  sendq q = { .msgs = GENALLOC_ZERO, .ids = GENALLOC_ZERO, .fresh = GENALLOC_ZERO, .orphans = GENALLOC_ZERO };
  sigset_t set;
  int trig, spfd;
  PROG = "tern-send";
  if (argc > 1) strerr_dieusage(100, USAGE);
  /* A closed fd 0, 1 or 2 would be taken by a job file, which a run would
   * then get as its own fd with FD_CLOEXEC still set: no report. */
  {
    int fd;
    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd < 3) ;
    if (fd > 2) fd_close(fd);
  }
  if (qinject_path_self(argv[0]) < 0) strerr_diefusys(111, "set PATH");
  if (sendconf_load(&q.c) < 0) strerr_diefusys(111, "read the control files");
  q.jobs = calloc(q.c.conclocal + q.c.concremote, sizeof *q.jobs);
  if (!q.jobs) strerr_diefu(111, "allocate");
  {
    unsigned int i;
    for (i = 0; i < q.c.conclocal + q.c.concremote; i++)
    { q.jobs[i].fd = q.jobs[i].pfd = q.jobs[i].sock = -1; q.jobs[i].slot = i; }
  }
  sig_ignore(SIGPIPE);
  spfd = selfpipe_init();
  if (spfd < 0) strerr_diefusys(111, "init the selfpipe");
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD); sigaddset(&set, SIGTERM); sigaddset(&set, SIGINT); sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGALRM);
  if (selfpipe_trapset(&set) < 0) strerr_diefusys(111, "trap signals");
  trig = trigger_open();
  tain_now_set_stopwatch_g();
  send_log("starting");
  if (job_dir_init() < 0) strerr_diefusys(111, "create queue/job");
  orphans_recover(&q, (uint64_t)time(0));
  sendq_cleanup((uint64_t)time(0), 1);
  /* deliveries begin once SEND_SCAN_EARLY messages are read; the loop
   * reads the rest between them */
  sendq_scan_some(&q, (uint64_t)time(0), SEND_SCAN_EARLY);
  if (q.scan_hh == 256) log_loaded(&q);
  sched_fresh(&q, (uint64_t)time(0));
  loop(&q, trig, spfd);
  send_log("exiting");
  return 0;
}
