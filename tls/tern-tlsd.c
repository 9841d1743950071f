/* tern-tlsd.c: the TLS engine between tern-tcpserver and an application (implicit TLS or UCSPI-TLS STARTTLS).
 *
 * SECURITY: starts as whoever tern-tcpserver runs it as (root when installed),
 * forks the application first (so it never holds the key, not even in
 * memory), then loads the key and certificate, drops to TLS_UID/TLS_GID and
 * only then reads from the network. The application keeps the original ids;
 * drop them in the chain (s6-applyuidgid). See docs/tern-tlsd.8, docs/tls.md.
 * Under tern-tcpserver -w (TERN_POOL set) it is a pooled worker that serves
 * connection after connection with one resident application worker, in the
 * same order: the application started first, then the key, then the drop
 * (tlsd_pool.c, docs/pool.md). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bearssl.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/env.h>
#include <skalibs/exec.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "stress.h"
#include "tlsd.h"

#define USAGE "tern-tlsd [-i] [-t handshake-seconds] [-s stress-seconds] [-u uid] [-g gid] -k key.pem -c cert.pem prog..."
#define dieusage() strerr_dieusage(100, USAGE)
#define INFO_MAX 4096

/* The application's descriptors; [0] read end, [1] write end. */
typedef struct appfds_s appfds;
struct appfds_s
{
  int sync[2];   /* engine -> child before exec: environment to add, NUL-ended */
  int in[2];     /* engine -> application plaintext */
  int out[2];    /* application -> engine plaintext */
  int ctl[2];    /* STARTTLS: socketpair, [0] engine side, [1] application side */
};

static void closefd(int *fd)
{
  if (*fd >= 0) { close(*fd); *fd = -1; }
}

static void ids_from_env(tlsd_opts *o)
{
  char const *s = getenv("TLS_UID");
  unsigned int u;
  if (!o->haveuid && s && uint0_scan(s, &u)) { o->uid = u; o->haveuid = 1; }
  s = getenv("TLS_GID");
  if (!o->havegid && s && uint0_scan(s, &u)) { o->gid = u; o->havegid = 1; }
}

static char const *const *parse_options(int argc, char const *const *argv, tlsd_opts *o)
{
  subgetopt l = SUBGETOPT_ZERO;
  unsigned int u;
  for (;;)
  {
    int c = subgetopt_r(argc, argv, "it:s:u:g:k:c:", &l);
    if (c == -1) break;
    switch (c)
    {
      case 'i': o->implicit = 1; break;
      case 't': if (!uint0_scan(l.arg, &o->hstimeout) || !o->hstimeout) dieusage(); break;
      case 's': if (!uint0_scan(l.arg, &o->stresssecs) || !o->stresssecs) dieusage(); break;
      case 'u': if (!uint0_scan(l.arg, &u)) dieusage(); o->uid = u; o->haveuid = 1; break;
      case 'g': if (!uint0_scan(l.arg, &u)) dieusage(); o->gid = u; o->havegid = 1; break;
      case 'k': o->key = l.arg; break;
      case 'c': o->cert = l.arg; break;
      default: dieusage();
    }
  }
  argv += l.ind;
  if (!*argv) dieusage();
  if (!o->key) o->key = getenv("KEYFILE");
  if (!o->cert) o->cert = getenv("CERTFILE");
  if (!o->key || !o->cert) dieusage();
  ids_from_env(o);
  return argv;
}

static void make_fds(appfds *a, int implicit)
{
  if (pipecoe(a->sync) < 0 || pipecoe(a->in) < 0 || pipecoe(a->out) < 0)
    strerr_diefu1sys(111, "create pipes");
  a->ctl[0] = a->ctl[1] = -1;
  if (!implicit && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a->ctl) < 0)
    strerr_diefu1sys(111, "create the control socket");
}

/* Adds "NAME=fd\0" to sa. */
static int modif_fd(stralloc *sa, char const *name, int fd)
{
  char fmt[INT_FMT];
  fmt[int_fmt(fmt, fd)] = 0;
  return stralloc_cats(sa, name) && stralloc_catb(sa, "=", 1) && stralloc_cats(sa, fmt) && stralloc_catb(sa, "", 1);
}

/* The child: waits until the engine is ready (and, with -i, for the
 * handshake's results), sets up its fds and environment, execs prog. */
static void child(char const *const *argv, int implicit, appfds *a)
{
  char buf[INFO_MAX];
  size_t n;
  stralloc modifs = STRALLOC_ZERO;
  close(a->sync[1]); close(a->in[1]); close(a->out[0]);
  if (a->ctl[0] >= 0) close(a->ctl[0]);
  n = allread(a->sync[0], buf, sizeof buf);
  close(a->sync[0]);
  if (!n || n == sizeof buf || buf[n-1]) _exit(111);  /* the engine failed; it said why */
  if (implicit)
  {
    if (fd_move(0, a->in[0]) < 0 || fd_move(1, a->out[1]) < 0) strerr_diefu1sys(111, "move descriptors");
    if (!stralloc_catb(&modifs, "SSLCTLFD\0SSLREADFD\0SSLWRITEFD\0", 30)) strerr_diefu1sys(111, "stralloc_catb");
    if (!stralloc_catb(&modifs, buf, n - 1)) strerr_diefu1sys(111, "stralloc_catb");
  }
  else
  {
    if (uncoe(a->ctl[1]) < 0 || uncoe(a->in[0]) < 0 || uncoe(a->out[1]) < 0) strerr_diefu1sys(111, "uncoe");
    if (!stralloc_catb(&modifs, "SSL_PROTOCOL\0SSL_CIPHER\0SSL_TLS_SNI_SERVERNAME\0", 47)
     || !modif_fd(&modifs, "SSLCTLFD", a->ctl[1])
     || !modif_fd(&modifs, "SSLREADFD", a->in[0])
     || !modif_fd(&modifs, "SSLWRITEFD", a->out[1])) strerr_diefu1sys(111, "stralloc_catb");
  }
  sig_restore(SIGPIPE);
  xmexec_m(argv, modifs.s, modifs.len);
}

static int wait_app(pid_t pid)
{
  int wstat;
  if (wait_pid(pid, &wstat) < 0) strerr_diefu1sys(111, "wait for the application");
  return WIFSIGNALED(wstat) ? 111 : WEXITSTATUS(wstat);
}

/* Handshake on fds 0/1 and relay; returns 1 if TLS ran, 0 if it failed. */
static int session(tlsd_engine *e, appfds *a, tlsd_opts const *o, char start)
{
  tlsd_fds f = { .netr = 0, .netw = 1, .appr = a->out[0], .appw = a->in[1] };
  stralloc info = STRALLOC_ZERO;
  tain closetime;
  int r;
  if (!tlsd_handshake01(e, &f, o)) return 0;
  if (!tls_info(&info, &e->sc.eng) || !stralloc_0(&info)) strerr_diefu1sys(111, "stralloc_catb");
  if (o->implicit || start == 'Y')
  {
    int fd = o->implicit ? a->sync[1] : a->ctl[0];
    if (allwrite(fd, info.s, info.len) < info.len) { tlsd_report("passing TLS information", -1); return 0; }
  }
  closefd(o->implicit ? &a->sync[1] : &a->ctl[0]);
  stralloc_free(&info);
  tain_from_millisecs(&closetime, 10000);
  r = tlsd_relay(&e->sc.eng, &f, &closetime);
  a->in[1] = a->out[0] = -1;  /* the relay closed them */
  if (r && !(r < 0 && errno == EPIPE) && r != BR_ERR_IO) tlsd_report("TLS session", r);
  return 1;
}

int main(int argc, char const *const *argv)
{
  tlsd_opts o = { .implicit = 0, .hstimeout = 30, .stresssecs = STRESS_TIMEOUT_DEFAULT, .key = 0, .cert = 0, .uid = 0, .gid = 0, .haveuid = 0, .havegid = 0 };
  appfds a;
  static tlsd_engine e = { .chain = TLS_CHAIN_ZERO };
  pid_t pid;
  char start = 'Y';
  int ok;
  PROG = "tern-tlsd";
  argv = parse_options(argc, argv, &o);
  tain_now_set_stopwatch_g();
  if (sig_ignore(SIGPIPE) < 0) strerr_diefu1sys(111, "ignore SIGPIPE");
  if (getenv("TERN_POOL")) return tlsd_pool(argv, &o);
  make_fds(&a, o.implicit);
  pid = fork();
  if (pid < 0) strerr_diefu1sys(111, "fork");
  if (!pid) child(argv, o.implicit, &a);
  closefd(&a.sync[0]); closefd(&a.in[0]); closefd(&a.out[1]); closefd(&a.ctl[1]);
  tlsd_load(&e, &o);
  tlsd_drop_privileges(&o);
  if (o.implicit) ok = session(&e, &a, &o, 'Y');
  else
  {
    if (fd_write(a.sync[1], "", 1) < 1) strerr_diefu1sys(111, "start the application");
    closefd(&a.sync[1]);
    start = tlsd_wait_start(a.ctl[0]);
    ok = start ? session(&e, &a, &o, start) : 1;
  }
  /* Whatever happened, the application sees end of file everywhere now. */
  closefd(&a.sync[1]); closefd(&a.in[1]); closefd(&a.out[0]); closefd(&a.ctl[0]);
  if (start) shutdown(0, SHUT_RDWR);
  close(0); close(1);
  {
    int e = wait_app(pid);
    return ok ? e : 111;
  }
}
