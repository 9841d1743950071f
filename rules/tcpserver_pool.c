/* tcpserver_pool.c: pool mode (-w): pre-started workers handed each accepted socket and its environment (docs/pool.md).
 *
 * Workers are started with posix_spawn (lib/pspawn.h), each holding one end
 * of a SOCK_SEQPACKET socketpair (the records of lib/pool.h). A connection
 * goes to an idle worker with exactly the environment changes the classic
 * mode would merge before its exec (tcpserver_conn); the worker answers "I"
 * when the session is over. The slots (-c, -C, stress) count busy workers
 * the way the classic mode counts children. A worker serves at most -w
 * sessions, then its socket is closed and it exits; -k idle workers are
 * kept ready; idle ones beyond -k are closed after -K seconds. A worker
 * that dies loses only the connection it held.
 *
 * SECURITY: the workers run as the launcher's dropped ids; the launcher
 * reads nothing from a worker but its one-byte "I" record. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "jobmsg.h"
#include "pool.h"
#include "pspawn.h"
#include "tcpserver.h"
#include "tcpserver_slots.h"

enum { W_FREE, W_IDLE, W_BUSY, W_DYING };

typedef struct worker_s worker;
struct worker_s
{
  pid_t pid;
  int fd;                   /* our end of its socket; -1 once closed */
  int state;
  int serving;              /* holds a connection (also once DYING) */
  unsigned int sessions;    /* handed so far */
  tain idlesince;
};

typedef struct pool_s pool;
struct pool_s
{
  tcpserver *t;
  slots sl;
  worker *w;
  unsigned int max;         /* table size: live workers plus those exiting */
  unsigned int live;        /* idle or busy */
  unsigned int idle;
  int devnull;
  stralloc rec;
  tain spareafter;          /* no spare is started before (a worker died unused) */
};

static void logpid(pool const *p, char const *what, pid_t pid, char const *more)
{
  char fmt[PID_FMT];
  if (p->t->verbosity < 2) return;
  fmt[pid_fmt(fmt, pid)] = 0;
  strerr_warn(PROG, ": ", what, " ", fmt, more ? more : "");
}

/* Starts one worker. 1 ok, 0 not now (logged). */
static int spawn(pool *p)
{
  unsigned int i;
  int sv[2];
  pid_t pid;
  for (i = 0; i < p->max && p->w[i].state != W_FREE; i++) ;
  if (i == p->max || p->live >= p->t->maxconn) return 0;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
  { if (p->t->verbosity) strerr_warnwusys("create a worker's socket"); return 0; }
  pid = pspawn_fd01(p->t->argv, sv[1], p->devnull);
  close(sv[1]);
  if (pid < 0)
  {
    if (p->t->verbosity) strerr_warnwusys("spawn ", p->t->argv[0]);
    close(sv[0]);
    return 0;
  }
  ndelay_on(sv[0]);
  p->w[i].pid = pid;
  p->w[i].fd = sv[0];
  p->w[i].state = W_IDLE;
  p->w[i].serving = 0;
  p->w[i].sessions = 0;
  tain_copynow(&p->w[i].idlesince);
  p->live++;
  p->idle++;
  logpid(p, "worker", pid, " started");
  return 1;
}

/* Closes our end: the worker exits when it sees end of file. */
static void retire(pool *p, worker *w)
{
  if (w->state == W_IDLE) p->idle--;
  if (w->state == W_IDLE || w->state == W_BUSY) p->live--;
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  w->state = W_DYING;
}

/* Spares wait a second after a worker died before its first session (a
 * key it cannot read, a program that cannot start): not a spawn loop.
 * Connections still get a worker each, as the classic mode forks one. */
static void fill_spare(pool *p)
{
  if (tain_less(&STAMP, &p->spareafter)) return;
  while (p->idle < p->t->poolspare && spawn(p)) ;
}

/* A worker that is no longer serving gives its slot back. */
static void free_slot(pool *p, pid_t pid)
{
  int change = slots_remove(&p->sl, (unsigned long)pid);
  tcpserver_status(p->t, &p->sl);
  tcpserver_stress_log(p->t, &p->sl, change);
}

static void reap(pool *p)
{
  for (;;)
  {
    int wstat;
    unsigned int i;
    pid_t pid = wait_nohang(&wstat);
    if (pid <= 0) return;
    for (i = 0; i < p->max && !(p->w[i].state != W_FREE && p->w[i].pid == pid); i++) ;
    if (i == p->max) continue;
    if (p->w[i].serving && p->t->verbosity)
    {
      char fmt[PID_FMT], n[UINT_FMT];
      fmt[pid_fmt(fmt, pid)] = 0;
      n[uint_fmt(n, WIFSIGNALED(wstat) ? WTERMSIG(wstat) : WEXITSTATUS(wstat))] = 0;
      strerr_warnw("worker ", fmt, " ended in a session (", WIFSIGNALED(wstat) ? "signal " : "status ", n, "): that connection is lost");
    }
    else if (p->t->verbosity >= 2)
    {
      char fmt[PID_FMT], n[UINT_FMT];
      fmt[pid_fmt(fmt, pid)] = 0;
      n[uint_fmt(n, WIFSIGNALED(wstat) ? WTERMSIG(wstat) : WEXITSTATUS(wstat))] = 0;
      strerr_warn(PROG, ": end worker ", fmt, WIFSIGNALED(wstat) ? " signal " : " status ", n);
    }
    if (p->w[i].state != W_DYING && !p->w[i].sessions)
    {
      tain_addsec_g(&p->spareafter, 1);
      if (p->t->verbosity) strerr_warnw("a worker ended before its first session: the next spare starts in 1 s");
    }
    if (p->w[i].state != W_DYING) retire(p, p->w + i);
    free_slot(p, pid);
    p->w[i].state = W_FREE;
  }
}

/* The worker's record: "I" after a session; anything else ends it. */
static void from_worker(pool *p, worker *w)
{
  char buf[2];
  ssize_t r = jobmsg_recv(w->fd, buf, sizeof buf, 0);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (r == 1 && buf[0] == 'I' && w->state == W_BUSY)
  {
    free_slot(p, w->pid);
    w->state = W_IDLE;
    w->serving = 0;
    p->idle++;
    tain_copynow(&w->idlesince);
    if (w->sessions >= p->t->poolsessions) retire(p, w);
    return;
  }
  if (r != 0 && p->t->verbosity)
  {
    char fmt[PID_FMT];
    fmt[pid_fmt(fmt, w->pid)] = 0;
    strerr_warnw("worker ", fmt, " sent a malformed record: dropping it");
  }
  /* end of file: it exits (its slot comes back when it is reaped) */
  retire(p, w);
}

static worker *pick(pool *p)
{
  unsigned int i;
  for (i = 0; i < p->max; i++) if (p->w[i].state == W_IDLE) return p->w + i;
  return 0;
}

/* Hands s to an idle worker: slot, decision, environment, send. */
static void hand(pool *p, worker *w, int s, ip46 const *ip, uint16_t port, ip46 const *client)
{
  int change = slots_add(&p->sl, (unsigned long)w->pid, client);
  int r;
  p->rec.len = 0;
  if (!stralloc_catb(&p->rec, "C", 1)) r = -1;
  else r = tcpserver_conn(p->t, s, ip, port, p->sl.stress, w->pid, &p->rec);
  if (r > 0 && p->rec.len > 1 + POOL_ENV_MAX) { errno = E2BIG; r = -1; }
  if (r > 0 && p->t->banner && allwrite(s, p->t->banner, strlen(p->t->banner)) < strlen(p->t->banner)) r = 0;
  if (r > 0 && jobmsg_send(w->fd, p->rec.s, p->rec.len, s) < 0)
  {
    if (p->t->verbosity) strerr_warnwusys("hand a connection to a worker");
    retire(p, w);
    r = 0;
  }
  if (r < 0 && p->t->verbosity) strerr_warnwusys("set up a connection");
  close(s);
  tcpserver_stress_log(p->t, &p->sl, change);
  if (r <= 0) { free_slot(p, w->pid); return; }
  w->state = W_BUSY;
  w->serving = 1;
  w->sessions++;
  p->idle--;
  if (p->t->verbosity >= 2)
  {
    char fmt[6 + IP46_FMT] = " from ";
    fmt[6 + ip46_fmt(fmt + 6, ip)] = 0;
    logpid(p, "pid", w->pid, fmt);   /* as the classic mode's line */
  }
  tcpserver_status(p->t, &p->sl);
}

static void new_connection(pool *p)
{
  ip46 ip, client;
  uint16_t port;
  worker *w;
  int s = tcpserver_accept(p->t, &p->sl, &ip, &port, &client);
  if (s < 0) return;
  w = pick(p);
  if (!w && spawn(p)) w = pick(p);
  if (!w) { close(s); return; }   /* cannot happen while the slots are right */
  hand(p, w, s, &ip, port, &client);
  fill_spare(p);
}

/* Idle workers beyond -k that waited -K seconds are closed. */
static void shrink(pool *p, tain *deadline)
{
  unsigned int i;
  tain_add_g(deadline, &tain_infinite_relative);
  if (p->idle < p->t->poolspare && tain_less(&STAMP, &p->spareafter)) *deadline = p->spareafter;
  for (i = 0; i < p->max && p->idle > p->t->poolspare; i++)
  {
    tain end;
    if (p->w[i].state != W_IDLE) continue;
    tain_addsec(&end, &p->w[i].idlesince, p->t->poolidle);
    if (!tain_less(&STAMP, &end)) retire(p, p->w + i);
    else if (tain_less(&end, deadline)) *deadline = end;
  }
}

static int handle_signals(pool *p)
{
  for (;;)
  {
    int sig = selfpipe_read();
    if (sig < 0) strerr_diefusys(111, "read selfpipe");
    if (!sig) return 1;
    if (sig == SIGCHLD) reap(p);
    else if (sig == SIGTERM) return 0;
  }
}

static void pool_init(pool *p, tcpserver *t)
{
  memset(p, 0, sizeof *p);
  p->t = t;
  if (t->poolspare > t->maxconn) t->poolspare = t->maxconn;
  p->max = 2 * t->maxconn;
  p->w = calloc(p->max, sizeof(worker));
  if (!p->w || !slots_init(&p->sl, t->maxconn, t->maxperip, t->bits4, t->bits6, t->stresspct))
    strerr_diefusys(111, "allocate");
  p->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (p->devnull < 0) strerr_diefusys(111, "open /dev/null");
  /* the workers' startup environment; each removes it from its sessions' */
  if (setenv("TERN_POOL", "1", 1) < 0) strerr_diefusys(111, "set TERN_POOL");
  if (t->rules && !(t->rdb = tcpserver_rdb_new())) strerr_diefusys(111, "allocate");
}

int tcpserver_pool(tcpserver *t)
{
  pool p;
  iopause_fd *x;
  unsigned int *idx;
  int sfd = selfpipe_init();
  unsigned int i;
  if (sfd < 0) strerr_diefusys(111, "create selfpipe");
  sig_ignore(SIGPIPE);
  if (!selfpipe_trap(SIGCHLD) || !selfpipe_trap(SIGTERM)) strerr_diefusys(111, "trap signals");
  pool_init(&p, t);
  x = calloc(p.max + 2, sizeof(iopause_fd));
  idx = calloc(p.max + 2, sizeof(unsigned int));
  if (!x || !idx) strerr_diefusys(111, "allocate");
  tain_now_g();
  fill_spare(&p);
  tcpserver_status(t, &p.sl);
  for (;;)
  {
    unsigned int n = 1, listen = 0;
    tain deadline;
    shrink(&p, &deadline);
    x[0].fd = sfd; x[0].events = IOPAUSE_READ;
    /* at the limit the socket is not watched: clients wait in the backlog */
    if (!slots_full(&p.sl) && (p.idle || p.live < t->maxconn))
    { x[1].fd = t->lfd; x[1].events = IOPAUSE_READ; listen = 1; n = 2; }
    for (i = 0; i < p.max; i++)
      if (p.w[i].fd >= 0 && (p.w[i].state == W_IDLE || p.w[i].state == W_BUSY))
      { idx[n] = i; x[n].fd = p.w[i].fd; x[n].events = IOPAUSE_READ; n++; }
    if (iopause_g(x, n, &deadline) < 0)
    {
      if (errno == EINTR) continue;
      strerr_diefusys(111, "iopause");
    }
    if (x[0].revents && !handle_signals(&p)) break;
    for (i = 1 + listen; i < n; i++)
      if (x[i].revents && p.w[idx[i]].fd == x[i].fd) from_worker(&p, p.w + idx[i]);
    if (listen && x[1].revents & IOPAUSE_READ) new_connection(&p);
    fill_spare(&p);
  }
  close(t->lfd);
  for (i = 0; i < p.max; i++) if (p.w[i].fd >= 0 && p.w[i].state != W_FREE) retire(&p, p.w + i);
  if (t->verbosity >= 2) strerr_warn(PROG, ": exiting on SIGTERM");
  free(x);
  free(idx);
  free(p.w);
  stralloc_free(&p.rec);
  slots_free(&p.sl);
  tcpserver_rdb_free(t->rdb);
  t->rdb = 0;
  return 0;
}
