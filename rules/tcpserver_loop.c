/* tcpserver_loop.c: tern-tcpserver's accept loop: slots (tcpserver_slots.h), reaping, SIGTERM. */
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
#include "tcpserver_slots.h"

typedef struct state_s state;
struct state_s
{
  tcpserver *t;
  slots sl;
};

void tcpserver_status(tcpserver const *t, slots const *sl)
{
  char a[UINT_FMT], b[UINT_FMT];
  if (t->verbosity < 2) return;
  a[uint_fmt(a, sl->n)] = 0;
  b[uint_fmt(b, t->maxconn)] = 0;
  strerr_warn(PROG, ": status: ", a, "/", b);
}

/* The start and end of stress, whatever the verbosity but -q: the admin
 * must be able to tell why sessions got short timeouts. */
void tcpserver_stress_log(tcpserver const *t, slots const *sl, int change)
{
  char a[UINT_FMT], b[UINT_FMT];
  if (!change || !t->verbosity) return;
  a[uint_fmt(a, sl->n)] = 0;
  b[uint_fmt(b, t->maxconn)] = 0;
  if (change > 0)
    strerr_warn(PROG, ": stress: on: ", a, "/", b, " connections busy; new connections get short timeouts");
  else
    strerr_warn(PROG, ": stress: off: ", a, "/", b, " connections busy");
}

static void reap(state *st)
{
  for (;;)
  {
    int w;
    unsigned int before = st->sl.n;
    int change;
    pid_t pid = wait_nohang(&w);
    if (pid <= 0) return;
    change = slots_remove(&st->sl, (unsigned long)pid);
    if (st->sl.n == before) continue;
    if (st->t->verbosity >= 2)
    {
      char p[PID_FMT], s[UINT_FMT];
      p[pid_fmt(p, pid)] = 0;
      s[uint_fmt(s, WIFSIGNALED(w) ? WTERMSIG(w) : WEXITSTATUS(w))] = 0;
      strerr_warn(PROG, ": end ", p, WIFSIGNALED(w) ? " signal " : " status ", s);
    }
    tcpserver_status(st->t, &st->sl);
    tcpserver_stress_log(st->t, &st->sl, change);
  }
}

static int do_accept(tcpserver const *t, ip46 *ip, uint16_t *port)
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

static void refuse(tcpserver const *t, slots const *sl, ip46 const *ip, ip46 const *client)
{
  char fmt[IP46_FMT], net[IP46_FMT], bits[UINT_FMT];
  unsigned int b = ip46_is6(ip) ? sl->bits6 : sl->bits4;
  if (t->verbosity < 1) return;
  fmt[ip46_fmt(fmt, ip)] = 0;
  if (b == (ip46_is6(ip) ? 128U : 32U))
  {
    strerr_warn(PROG, ": deny ", fmt, " per-address limit reached");
    return;
  }
  net[ip46_fmt(net, client)] = 0;
  bits[uint_fmt(bits, b)] = 0;
  strerr_warn(PROG, ": deny ", fmt, " per-client limit reached (", net, "/", bits, ")");
}

int tcpserver_accept(tcpserver const *t, slots const *sl, ip46 *ip, uint16_t *port, ip46 *client)
{
  int s = do_accept(t, ip, port);
  if (s < 0)
  {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return -1;
    if (t->verbosity) strerr_warnwusys("accept");
    /* out of descriptors: the socket stays readable, so pause instead of spinning */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) usleep(100000);
    return -1;
  }
  slots_client(sl, ip, client);
  if (!slots_admit(sl, client))
  {
    refuse(t, sl, ip, client);
    close(s);
    return -1;
  }
  return s;
}

static void new_connection(state *st)
{
  ip46 ip, client;
  uint16_t port;
  pid_t pid;
  int change;
  int s = tcpserver_accept(st->t, &st->sl, &ip, &port, &client);
  if (s < 0) return;
  /* Counted before the fork: the child's stress flag counts the child. */
  change = slots_add(&st->sl, 0, &client);
  pid = fork();
  if (pid < 0)
  {
    if (st->t->verbosity) strerr_warnwusys("fork");
    close(s);
    tcpserver_stress_log(st->t, &st->sl, change + slots_remove(&st->sl, 0));
    return;
  }
  if (!pid)
  {
    selfpipe_finish();
    close(st->t->lfd);
    tcpserver_child(st->t, s, &ip, port, st->sl.stress);
  }
  close(s);
  slots_setid(&st->sl, 0, (unsigned long)pid);
  if (st->t->verbosity >= 2)
  {
    char p[PID_FMT], fmt[IP46_FMT];
    p[pid_fmt(p, pid)] = 0;
    fmt[ip46_fmt(fmt, &ip)] = 0;
    strerr_warn(PROG, ": pid ", p, " from ", fmt);
  }
  tcpserver_status(st->t, &st->sl);
  tcpserver_stress_log(st->t, &st->sl, change);
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
  state st = { .t = t };
  iopause_fd x[2];
  int sfd;
  if (t->poolsessions) return tcpserver_pool(t);
  sfd = selfpipe_init();
  if (sfd < 0) strerr_diefusys(111, "create selfpipe");
  sig_ignore(SIGPIPE);
  if (!selfpipe_trap(SIGCHLD) || !selfpipe_trap(SIGTERM))
    strerr_diefusys(111, "trap signals");
  if (!slots_init(&st.sl, t->maxconn, t->maxperip, t->bits4, t->bits6, t->stresspct))
    strerr_diefusys(111, "allocate");
  tcpserver_status(t, &st.sl);
  for (;;)
  {
    unsigned int n = 1;
    x[0].fd = sfd; x[0].events = IOPAUSE_READ;
    /* at the limit the socket is not watched: clients wait in the backlog */
    if (!slots_full(&st.sl)) { x[1].fd = t->lfd; x[1].events = IOPAUSE_READ; n = 2; }
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
  slots_free(&st.sl);
  return 0;
}
