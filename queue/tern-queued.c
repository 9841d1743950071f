/* tern-queued.c: the resident queue writer: tern-queue's work for many
 * messages, without a process per message.
 *
 * Interface: listens on a unix stream socket ($TERN_HOME/queued/socket, or
 * -s); each connection carries one message in the records of lib/qdmsg.h
 * and gets back one qmail-queue exit code (lib/qexit.h) with the committed
 * ID. The file is written exactly as tern-queue writes it (lib/queuewrite.h:
 * unnamed file, fsync, one link, fsync of mess/HH, the trigger), and the 'C'
 * 0 record is sent only after that message's own commit. tern-smtpd uses it
 * when the socket answers and $TERNQUEUE is not set (tern-smtpd(8)).
 *
 * Limits: -c clients at once (more get 'B' and use tern-queue), -t seconds
 * of silence per client, -b message bytes (default control/databytes plus
 * room for our Received line), -e envelope bytes.
 *
 * -p writers: each writer serves its clients one commit at a time, and a
 * commit waits for two fsyncs (the file, its directory); with one writer
 * every SMTP session waited for every other's disk flushes, and acceptance
 * stopped at 1 / (2 x fsync latency) messages a second. So the first
 * process (the supervisor) binds the socket and forks -p writers that
 * accept on it, each as before; their fsyncs then overlap on the disk.
 * The supervisor serves nobody: it replaces a writer that dies, passes
 * SIGHUP on, and on SIGTERM removes the socket and waits for the writers
 * to finish their clients. A writer whose supervisor is gone (the "alive"
 * pipe reads end of file) stops accepting, finishes and exits.
 *
 * SECURITY: runs as the queue user (s6-setuidgid from the run script),
 * never as root. It trusts nothing a client sends: a client must have our
 * uid or one given with -u (SO_PEERCRED), and the socket's directory lets
 * only the SMTP side's group in (tern-setup); the ID must be fresh, every
 * record is checked (queued_conn.c) and the envelope gets tern-queue's own
 * checks (queuewrite_env_byte). A client that stops talking is dropped
 * after -t; one that goes away leaves nothing behind (the file is unnamed
 * until its commit). It runs nothing. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/posixplz.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "control.h"
#include "qexit.h"
#include "queued_conn.h"

#define USAGE "tern-queued [-v] [-p writers] [-c maxclients] [-t timeout] [-b maxbytes] [-e maxenvelope] [-u uid]... [-s socket]"
#define MAXUIDS 8
#define MAXPROCS 64
/* what our Received line may add to a message of databytes bytes */
#define RECEIVED_ROOM 65536

typedef struct queued_s queued;
struct queued_s
{
  int sock;                 /* listening; -1 once told to stop */
  char const *home;
  char const *path;         /* the socket's */
  unsigned int cmax, n;     /* clients allowed, connected */
  unsigned int timeout;
  uid_t uids[MAXUIDS + 1];  /* peers allowed; uids[0] is ours */
  unsigned int nuids;
  int bytes_given;          /* -b: do not read control/databytes */
  int verbose;              /* -v: a line per committed message */
  unsigned int procs;       /* -p: writer processes */
  int alive;                /* a writer's end of the supervisor's pipe, or -1 */
  int supervised;           /* a writer under a supervisor: it unlinks nothing */
  queued_limits lim;
  queued_conn *c;           /* cmax of them; the first n in use */
  queuewrite kept;          /* a writer's queue directories (queuewrite_open_kept) */
  tain *deadline;           /* for each */
};

static void usage(void) { strerr_dieusage(100, USAGE); }

static unsigned int num(char const *s)
{
  unsigned int u;
  size_t n = uint_scan(s, &u);
  if (!n || s[n]) usage();
  return u;
}

/* control/databytes (as tern-smtpd reads it) plus our Received line. */
static int read_limits(queued *d)
{
  unsigned int u;
  if (d->bytes_given) return 1;
  if (control_readuint(&u, "databytes", 10485760) < 0) return 0;
  d->lim.maxbytes = u ? (uint64_t)u + RECEIVED_ROOM : 0;
  return 1;
}

static void options(queued *d, int argc, char const *const *argv, stralloc *sockpath)
{
  subgetopt l = SUBGETOPT_ZERO;
  d->uids[d->nuids++] = geteuid();
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "vp:c:t:b:e:u:s:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 'v': d->verbose = 1; break;
      case 'p': d->procs = num(l.arg); if (!d->procs || d->procs > MAXPROCS) usage(); break;
      case 'c': d->cmax = num(l.arg); if (!d->cmax || d->cmax > 10000) usage(); break;
      case 't': d->timeout = num(l.arg); if (!d->timeout) usage(); break;
      case 'b': d->lim.maxbytes = num(l.arg); d->bytes_given = 1; break;
      case 'e': d->lim.maxenv = num(l.arg); if (d->lim.maxenv < 64) usage(); break;
      case 'u': if (d->nuids > MAXUIDS) usage(); d->uids[d->nuids++] = num(l.arg); break;
      case 's': d->path = l.arg; break;
      default: usage();
    }
  }
  if (l.ind < argc) usage();
  /* every writer may take at least one client */
  if (d->procs > d->cmax) d->procs = d->cmax;
  if (!d->path)
  {
    if (!tern_path(sockpath, "queued/socket")) strerr_diefu1sys(111, "store the socket's path");
    d->path = sockpath->s;
  }
}

/* A stale socket from a previous run is replaced; anything else is not. */
static void listen_on(queued *d)
{
  struct stat st;
  mode_t m;
  if (lstat(d->path, &st) == 0)
  {
    if (!S_ISSOCK(st.st_mode)) strerr_dief(100, d->path, " exists and is not a socket");
    if (unlink(d->path) < 0) strerr_diefusys(111, "remove the old ", d->path);
  }
  d->sock = ipc_stream_nbcoe();
  if (d->sock < 0) strerr_diefusys(111, "create a socket");
  /* who may connect is decided by the directory and the uid check */
  m = umask(0);
  if (ipc_bind(d->sock, d->path) < 0) strerr_diefusys(111, "bind to ", d->path);
  umask(m);
  if (ipc_listen(d->sock, 256) < 0) strerr_diefusys(111, "listen on ", d->path);
}

static int allowed(queued const *d, int fd)
{
  uid_t uid;
  gid_t gid;
  unsigned int i;
  if (getpeereid(fd, &uid, &gid) < 0) return 0;
  for (i = 0; i < d->nuids; i++) if (d->uids[i] == uid) return 1;
  return 0;
}

static void put_record(int fd, char t)
{
  char h[QDMSG_HDR];
  qdmsg_hdr(h, t, 0);
  /* a fresh socket has room: a failure means the client is gone */
  if (fd_write(fd, h, sizeof h) < 0) {}
}

static void accept_all(queued *d)
{
  for (;;)
  {
    int fd = ipc_accept_nbcoe(d->sock, 0, 0, 0);
    if (fd < 0)
    {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED && errno != EINTR)
        strerr_warnwusys("accept a client");
      return;
    }
    if (!allowed(d, fd)) { strerr_warnw("refused a client with a uid not allowed (-u)"); fd_close(fd); continue; }
    /* busy: the client uses tern-queue this once */
    if (d->n >= d->cmax) { put_record(fd, 'B'); fd_close(fd); continue; }
    put_record(fd, 'R');
    queued_conn_start(d->c + d->n, fd, &d->lim, d->home, &d->kept);
    tain_addsec_g(d->deadline + d->n, d->timeout);
    d->n++;
  }
}

/* Client i leaves; the last one takes its place. */
static void drop(queued *d, unsigned int i)
{
  fd_close(d->c[i].fd);
  d->n--;
  if (i != d->n) { d->c[i] = d->c[d->n]; d->deadline[i] = d->deadline[d->n]; }
}

static void report(queued *d, unsigned int i)
{
  queued_conn *c = d->c + i;
  char out[QDMSG_HDR + QDMSG_RESULT];
  size_t n = qdmsg_result(out, c->code, c->id);
  if (c->code)
  {
    char num[UINT_FMT];
    num[uint_fmt(num, (unsigned int)c->code)] = 0;
    errno = c->err;
    if (c->err) strerr_warnwusys("queue a message (exit code ", num, "): ", c->what ? c->what : "");
    else strerr_warnwu("queue a message (exit code ", num, "): ", c->what ? c->what : "");
  }
  else if (d->verbose) strerr_warni("committed ", c->id);
  /* a client gone after the commit: the message stays, as when tern-queue's
   * caller dies after it exits (the duplicate window, docs/INTERNALS.md) */
  if (fd_write(c->fd, out, n) < 0) {}
  drop(d, i);
}

static void serve(queued *d, unsigned int i)
{
  char buf[65536];
  ssize_t r = fd_read(d->c[i].fd, buf, sizeof buf);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (r <= 0)
  {
    /* went away mid-message: nothing was committed, nothing remains */
    queued_conn_end(d->c + i);
    drop(d, i);
    return;
  }
  tain_addsec_g(d->deadline + i, d->timeout);
  if (queued_conn_feed(d->c + i, buf, (size_t)r) == QUEUED_END) report(d, i);
}

static void expire(queued *d)
{
  unsigned int i = d->n;
  while (i--)
    if (!tain_future(d->deadline + i))
    {
      queued_conn *c = d->c + i;
      queued_conn_end(c);
      c->code = QEXIT_TIMEOUT;
      c->what = "wait for the client: timed out";
      c->err = 0;
      report(d, i);
    }
}

/* No new clients (they fall back to tern-queue); those here finish. The
 * socket's name is the supervisor's to remove: after a SIGKILL of the
 * supervisor it may already be a new instance's. */
static void stop_accepting(queued *d)
{
  if (d->sock < 0) return;
  fd_close(d->sock);
  if (!d->supervised) unlink(d->path);
  d->sock = -1;
}

static void on_signal(queued *d)
{
  for (;;)
  {
    int s = selfpipe_read();
    if (s <= 0) { if (s < 0) strerr_diefu1sys(111, "read the selfpipe"); return; }
    if (s == SIGHUP && !read_limits(d)) { stralloc w = STRALLOC_ZERO; strerr_warnwusys("read ", control_where(&w, "databytes")); stralloc_free(&w); }
    if (s == SIGTERM) stop_accepting(d);
  }
}

static void loop(queued *d, int sp)
{
  iopause_fd *x = malloc((d->cmax + 3) * sizeof *x);
  if (!x) strerr_diefu1sys(111, "allocate");
  while (d->sock >= 0 || d->n)
  {
    unsigned int i, k = 0, base, al = 0;
    tain deadline = TAIN_INFINITE;
    x[k].fd = sp; x[k++].events = IOPAUSE_READ;
    if (d->alive >= 0) { al = k; x[k].fd = d->alive; x[k++].events = IOPAUSE_READ; }
    if (d->sock >= 0) { x[k].fd = d->sock; x[k++].events = IOPAUSE_READ; }
    base = k;
    for (i = 0; i < d->n; i++)
    {
      x[k].fd = d->c[i].fd;
      x[k++].events = IOPAUSE_READ;
      if (tain_less(d->deadline + i, &deadline)) deadline = d->deadline[i];
    }
    if (iopause_g(x, k, &deadline) < 0) strerr_diefu1sys(111, "iopause");
    if (x[0].revents & IOPAUSE_READ) on_signal(d);
    /* the supervisor is gone (nothing is ever written to the pipe) */
    if (al && (x[al].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)))
    {
      strerr_warnw("the supervisor is gone: finishing the clients here, then exiting");
      fd_close(d->alive);
      d->alive = -1;
      stop_accepting(d);
    }
    /* from the last: drop() moves the last client into a freed place */
    i = d->n < k - base ? d->n : k - base;
    while (i--)
      if (x[base + i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) serve(d, i);
    expire(d);
    if (d->sock >= 0 && (x[base - 1].revents & IOPAUSE_READ)) accept_all(d);
  }
  free(x);
}

/* The signals a process acts on, through the selfpipe (its fd). */
static int trap_signals(int chld)
{
  int sp = selfpipe_init();
  if (sp < 0 || !selfpipe_trap(SIGTERM) || !selfpipe_trap(SIGHUP)
   || (chld && !selfpipe_trap(SIGCHLD))) strerr_diefu1sys(111, "trap signals");
  return sp;
}

/* A writer: in the child, with the supervisor's selfpipe dropped. Returns
 * its pid in the supervisor; never returns in the writer. */
static pid_t writer(queued *d, int alive[2], unsigned int idx)
{
  pid_t pid = fork();
  if (pid < 0) { strerr_warnwusys("fork a writer"); return -1; }
  if (pid) return pid;
  /* -c is for all writers together: shared out, the first ones taking
   * the remainder (options() made procs at most cmax) */
  d->cmax = d->cmax / d->procs + (idx < d->cmax % d->procs);
  selfpipe_finish();
  fd_close(alive[1]);
  d->alive = alive[0];
  d->supervised = 1;
  loop(d, trap_signals(0));
  _exit(0);
}

/* -p: forks the writers, replaces one that dies (at most one a second),
 * forwards SIGHUP; on SIGTERM removes the socket, passes SIGTERM on, and
 * returns when every writer has exited. */
static void supervise(queued *d, int sp)
{
  pid_t pids[MAXPROCS];
  int alive[2];
  unsigned int i, live = 0;
  int stopping = 0;
  tain next = TAIN_ZERO;   /* the earliest time a writer may be replaced */
  if (pipe(alive) < 0 || coe(alive[1]) < 0) strerr_diefu1sys(111, "create a pipe");
  for (i = 0; i < d->procs; i++) pids[i] = 0;
  while (!stopping || live)
  {
    iopause_fd x = { .fd = sp, .events = IOPAUSE_READ };
    tain deadline = TAIN_INFINITE;
    if (!stopping)
    {
      for (i = 0; i < d->procs; i++)
        if (!pids[i] && !tain_future(&next))
        {
          pid_t p = writer(d, alive, i);
          if (p > 0) { pids[i] = p; live++; }
          else tain_addsec_g(&next, 1);
        }
      if (live < d->procs) deadline = next;
    }
    if (iopause_g(&x, 1, &deadline) < 0) strerr_diefu1sys(111, "iopause");
    if (!(x.revents & IOPAUSE_READ)) continue;
    for (;;)
    {
      int s = selfpipe_read(), wstat;
      pid_t p;
      if (s <= 0) { if (s < 0) strerr_diefu1sys(111, "read the selfpipe"); break; }
      if (s == SIGHUP)
        for (i = 0; i < d->procs; i++) if (pids[i]) kill(pids[i], SIGHUP);
      if (s == SIGTERM && !stopping)
      {
        stopping = 1;
        unlink(d->path);
        for (i = 0; i < d->procs; i++) if (pids[i]) kill(pids[i], SIGTERM);
      }
      if (s != SIGCHLD) continue;
      while ((p = wait_nohang(&wstat)) > 0)
        for (i = 0; i < d->procs; i++)
          if (pids[i] == p)
          {
            pids[i] = 0;
            live--;
            if (!stopping)
            {
              char num[PID_FMT];
              num[pid_fmt(num, p)] = 0;
              strerr_warnw("writer ", num, WIFSIGNALED(wstat) ? " was killed" : " exited",
                           ": its clients fall back or retry; starting another");
              tain_addsec_g(&next, 1);
            }
          }
    }
  }
}

int main(int argc, char const *const *argv)
{
  queued d = { .sock = -1, .cmax = 100, .timeout = 1800, .procs = 4, .alive = -1,
               .lim = { .maxbytes = 0, .maxenv = 16777216 }, .kept = QUEUEWRITE_ZERO };
  stralloc sockpath = STRALLOC_ZERO;
  int sp;
  PROG = "tern-queued";
  options(&d, argc, argv, &sockpath);
  d.home = tern_home();
  if (!read_limits(&d)) control_die(111, "databytes");
  d.c = malloc(d.cmax * sizeof *d.c);
  d.deadline = malloc(d.cmax * sizeof *d.deadline);
  if (!d.c || !d.deadline) strerr_diefu1sys(111, "allocate");
  umask(027);
  /* a file size limit then fails a write (53), as in tern-queue */
  if (!sig_ignore(SIGPIPE) || !sig_ignore(SIGXFSZ)) strerr_diefu1sys(111, "set signal handlers");
  sp = trap_signals(d.procs > 1);
  tain_now_set_stopwatch_g();
  listen_on(&d);
  strerr_warni("listening on ", d.path);
  if (d.procs > 1) supervise(&d, sp);
  else loop(&d, sp);
  stralloc_free(&sockpath);
  return 0;
}
