/* tcpserver_loop.c: tern-tcpserver's accept loop: concurrency limits, reaping, SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/ip46.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "rules_addr.h"
#include "tcpserver.h"

typedef struct kid_s kid;
struct kid_s
{
  pid_t pid;
  ip46 ip;
};

typedef struct state_s state;
struct state_s
{
  tcpserver *t;
  kid *kids;
  unsigned int n;
};

static void status(state const *st)
{
  char a[UINT_FMT], b[UINT_FMT];
  if (st->t->verbosity < 2) return;
  a[uint_fmt(a, st->n)] = 0;
  b[uint_fmt(b, st->t->maxconn)] = 0;
  strerr_warn(PROG, ": status: ", a, "/", b);
}

static void reap(state *st)
{
  for (;;)
  {
    int w;
    unsigned int i;
    pid_t pid = wait_nohang(&w);
    if (pid <= 0) return;
    for (i = 0; i < st->n; i++) if (st->kids[i].pid == pid) break;
    if (i == st->n) continue;
    st->kids[i] = st->kids[--st->n];
    if (st->t->verbosity >= 2)
    {
      char p[PID_FMT], s[UINT_FMT];
      p[pid_fmt(p, pid)] = 0;
      s[uint_fmt(s, WIFSIGNALED(w) ? WTERMSIG(w) : WEXITSTATUS(w))] = 0;
      strerr_warn(PROG, ": end ", p, WIFSIGNALED(w) ? " signal " : " status ", s);
    }
    status(st);
  }
}

static unsigned int count_ip(state const *st, ip46 const *ip)
{
  unsigned int i, n = 0;
  for (i = 0; i < st->n; i++)
    if (ip46_is6(&st->kids[i].ip) == ip46_is6(ip) && !memcmp(st->kids[i].ip.ip, ip->ip, ip46_is6(ip) ? 16 : 4)) n++;
  return n;
}

static int do_accept(tcpserver *t, ip46 *ip, uint16_t *port)
{
  int s;
  if (t->is6)
  {
    s = socket_accept6(t->lfd, ip->ip, port);
    if (s >= 0) { ip46_from_ip6(ip, ip->ip); rules_addr_unmap(ip); }
  }
  else
  {
    s = socket_accept4(t->lfd, ip->ip, port);
    if (s >= 0) ip46_from_ip4(ip, ip->ip);
  }
  return s;
}

static void refuse(state const *st, ip46 const *ip)
{
  char fmt[IP46_FMT];
  fmt[ip46_fmt(fmt, ip)] = 0;
  if (st->t->verbosity >= 1)
    strerr_warn(PROG, ": deny ", fmt, " per-address limit reached");
}

static void new_connection(state *st)
{
  ip46 ip;
  uint16_t port;
  pid_t pid;
  int s = do_accept(st->t, &ip, &port);
  if (s < 0)
  {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return;
    if (st->t->verbosity) strerr_warnwusys("accept");
    /* out of descriptors: the socket stays readable, so pause instead of spinning */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) usleep(100000);
    return;
  }
  if (st->t->maxperip && count_ip(st, &ip) >= st->t->maxperip)
  {
    refuse(st, &ip);
    close(s);
    return;
  }
  pid = fork();
  if (pid < 0)
  {
    if (st->t->verbosity) strerr_warnwusys("fork");
    close(s);
    return;
  }
  if (!pid)
  {
    selfpipe_finish();
    close(st->t->lfd);
    tcpserver_child(st->t, s, &ip, port);
  }
  close(s);
  st->kids[st->n].pid = pid;
  st->kids[st->n++].ip = ip;
  if (st->t->verbosity >= 2)
  {
    char p[PID_FMT], fmt[IP46_FMT];
    p[pid_fmt(p, pid)] = 0;
    fmt[ip46_fmt(fmt, &ip)] = 0;
    strerr_warn(PROG, ": pid ", p, " from ", fmt);
  }
  status(st);
}

/* 1 keep going, 0 SIGTERM seen */
static int handle_signals(state *st)
{
  for (;;)
  {
    int sig = selfpipe_read();
    if (sig < 0) strerr_diefusys(111, "read selfpipe");
    if (!sig) return 1;
    if (sig == SIGCHLD) reap(st);
    else if (sig == SIGTERM) return 0;
  }
}

int tcpserver_loop(tcpserver *t)
{
  state st = { .t = t, .kids = 0, .n = 0 };
  iopause_fd x[2];
  int sfd = selfpipe_init();
  if (sfd < 0) strerr_diefusys(111, "create selfpipe");
  sig_ignore(SIGPIPE);
  if (!selfpipe_trap(SIGCHLD) || !selfpipe_trap(SIGTERM))
    strerr_diefusys(111, "trap signals");
  st.kids = malloc(sizeof(kid) * t->maxconn);
  if (!st.kids) strerr_diefusys(111, "allocate");
  status(&st);
  for (;;)
  {
    unsigned int n = 1;
    x[0].fd = sfd; x[0].events = IOPAUSE_READ;
    /* at the limit the socket is not watched: clients wait in the backlog */
    if (st.n < t->maxconn) { x[1].fd = t->lfd; x[1].events = IOPAUSE_READ; n = 2; }
    if (iopause_g(x, n, 0) < 0)
    {
      if (errno == EINTR) continue;
      strerr_diefusys(111, "iopause");
    }
    if (x[0].revents && !handle_signals(&st)) break;
    if (n == 2 && x[1].revents & IOPAUSE_READ) new_connection(&st);
  }
  close(t->lfd);
  if (t->verbosity >= 2) strerr_warn(PROG, ": exiting on SIGTERM");
  free(st.kids);
  return 0;
}
