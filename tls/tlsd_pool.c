/* tlsd_pool.c: tern-tlsd as a pooled worker: connection after connection, each handed on to one resident application worker (docs/pool.md, "TLS").
 *
 * tern-tcpserver -w starts us with its control socket on fd 0 and
 * TERN_POOL=1 (lib/pool.h). In the order the classic mode keeps: the
 * application worker is started first (posix_spawn, TERN_POOL=1 and one
 * end of our own SOCK_SEQPACKET socketpair on its fd 0), so it never shares
 * a process with the key; then the key and certificate are loaded and we
 * drop to TLS_UID/TLS_GID; only then is a connection taken. Per connection:
 *   -i:   the handshake on the socket, then the launcher's record, with
 *         SSL_PROTOCOL, SSL_CIPHER (and SSL_TLS_SNI_SERVERNAME) added, goes
 *         to the application with two plaintext pipes (its fds 0 and 1);
 *   else: the record, with the SSL_ names removed, goes with the socket
 *         itself (the plaintext phase never passes through us) and the
 *         UCSPI-TLS control, read and write fds; on 'Y' or 'y' the
 *         handshake runs and we relay, as in the classic mode.
 * The engine is reset for every connection; the key, the certificate and
 * control/tlsciphers are loaded again when one of them changed. The
 * application answers "I" when its session is over; we then answer "I" to
 * the launcher. An application worker that dies takes us with it (111):
 * the launcher logs the lost connection and starts a fresh pair.
 *
 * SECURITY: we hold the key and read only ciphertext from the network and
 * the one-byte control and "I" records from the application; the
 * application never holds the key. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "control.h"
#include "jobmsg.h"
#include "pool.h"
#include "pspawn.h"
#include "tlsd.h"

typedef struct tlspool_s tlspool;
struct tlspool_s
{
  tlsd_engine e;
  tlsd_opts const *o;
  poolworker w;
  int app;             /* our end of the application worker's socket */
  stralloc rec;        /* the record handed on */
  stralloc info;
  stralloc stamp;      /* key, certificate and tlsciphers as loaded */
};

static void closefd(int *fd)
{
  if (*fd >= 0) { close(*fd); *fd = -1; }
}

/* Device, inode, size and times of the files the engine is made of. */
static int stamp(stralloc *sa, tlsd_opts const *o)
{
  stralloc ciphers = STRALLOC_ZERO;
  char const *files[3] = { o->key, o->cert, 0 };
  unsigned int i;
  sa->len = 0;
  if (!tern_path(&ciphers, "control/tlsciphers")) return 0;
  files[2] = ciphers.s;
  for (i = 0; i < 3; i++)
  {
    struct stat st;
    if (stat(files[i], &st) < 0) memset(&st, 0, sizeof st);
    if (!stralloc_catb(sa, (char const *)&st.st_dev, sizeof st.st_dev)
     || !stralloc_catb(sa, (char const *)&st.st_ino, sizeof st.st_ino)
     || !stralloc_catb(sa, (char const *)&st.st_size, sizeof st.st_size)
     || !stralloc_catb(sa, (char const *)&st.st_mtim, sizeof st.st_mtim)
     || !stralloc_catb(sa, (char const *)&st.st_ctim, sizeof st.st_ctim))
    { stralloc_free(&ciphers); return 0; }
  }
  stralloc_free(&ciphers);
  return 1;
}

/* A renewed certificate is used from the next connection on, as the
 * classic mode (one tern-tlsd per connection) would. */
static void refresh(tlspool *p)
{
  stralloc now = STRALLOC_ZERO;
  if (!stamp(&now, p->o)) strerr_diefu1sys(111, "stat the key and certificate");
  if (now.len == p->stamp.len && !memcmp(now.s, p->stamp.s, now.len)) { stralloc_free(&now); return; }
  stralloc_free(&p->stamp);
  p->stamp = now;
  tls_chain_free(&p->e.chain);
  tlsd_load(&p->e, p->o);
}

/* The application's "I": its session is over. Anything else: it is gone. */
static void wait_idle(tlspool *p)
{
  char buf[2];
  ssize_t r = jobmsg_recv(p->app, buf, sizeof buf, 0);
  if (r == 1 && buf[0] == 'I') return;
  if (r < 0) strerr_diefu1sys(111, "read the application worker's record");
  strerr_dief1x(111, "the application worker ended: this worker ends too");
}

static void hand(tlspool *p, int const *fds, unsigned int n)
{
  if (p->rec.len > POOL_REC_MAX) strerr_dief1x(111, "the connection's environment is too large");
  if (jobmsg_sendv(p->app, p->rec.s, p->rec.len, fds, n) < 0)
    strerr_diefu1sys(111, "hand the connection to the application worker");
}

/* Relays until one side ends; the application fds are closed after. */
static void relay(tlspool *p, tlsd_fds *f)
{
  tain closetime;
  int r;
  tain_from_millisecs(&closetime, 10000);
  r = tlsd_relay(&p->e.sc.eng, f, &closetime);
  if (r && !(r < 0 && errno == EPIPE) && r != BR_ERR_IO) tlsd_report("TLS session", r);
}

/* Implicit TLS: the handshake first; the application sees plaintext only. */
static void session_implicit(tlspool *p, int *in, int *out)
{
  tlsd_fds f = { .netr = 0, .netw = 1, .appr = out[0], .appw = in[1] };
  int fds[2] = { in[0], out[1] };
  if (!tlsd_handshake01(&p->e, &f, p->o)) return;
  p->info.len = 0;
  if (!tls_info(&p->info, &p->e.sc.eng)
   || !stralloc_catb(&p->rec, "SSLCTLFD\0SSLREADFD\0SSLWRITEFD\0", 30)
   || !stralloc_catb(&p->rec, p->info.s, p->info.len)) strerr_diefu1sys(111, "stralloc_catb");
  hand(p, fds, 2);
  closefd(&in[0]); closefd(&out[1]);
  relay(p, &f);
  in[1] = out[0] = -1;
  shutdown(0, SHUT_RDWR);
  wait_idle(p);
}

/* STARTTLS: the application speaks plaintext on the socket until it asks. */
static void session_starttls(tlspool *p, int *in, int *out)
{
  tlsd_fds f = { .netr = 0, .netw = 1, .appr = out[0], .appw = in[1] };
  int ctl[2], fds[4];
  char start;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) strerr_diefu1sys(111, "create the control socket");
  fds[0] = 0; fds[1] = ctl[1]; fds[2] = in[0]; fds[3] = out[1];
  if (!stralloc_catb(&p->rec, "SSL_PROTOCOL\0SSL_CIPHER\0SSL_TLS_SNI_SERVERNAME\0", 47)) strerr_diefu1sys(111, "stralloc_catb");
  hand(p, fds, 4);
  closefd(&ctl[1]); closefd(&in[0]); closefd(&out[1]);
  start = tlsd_wait_start(ctl[0]);
  if (start && tlsd_handshake01(&p->e, &f, p->o))
  {
    p->info.len = 0;
    if (!tls_info(&p->info, &p->e.sc.eng) || !stralloc_0(&p->info)) strerr_diefu1sys(111, "stralloc_catb");
    if (start == 'Y' && allwrite(ctl[0], p->info.s, p->info.len) < p->info.len) tlsd_report("passing TLS information", -1);
    closefd(&ctl[0]);
    relay(p, &f);
    in[1] = out[0] = -1;
  }
  /* the application sees end of file everywhere now */
  closefd(&ctl[0]); closefd(&in[1]); closefd(&out[0]);
  if (start) shutdown(0, SHUT_RDWR);
  wait_idle(p);
}

static void session(tlspool *p)
{
  int in[2], out[2];
  refresh(p);
  if (!br_ssl_server_reset(&p->e.sc)) strerr_diefu(111, "reset the TLS engine");
  p->rec.len = 0;
  if (!stralloc_catb(&p->rec, p->w.rec.s, p->w.rec.len)) strerr_diefu1sys(111, "stralloc_catb");
  if (pipecoe(in) < 0 || pipecoe(out) < 0) strerr_diefu1sys(111, "create pipes");
  if (p->o->implicit) session_implicit(p, in, out);
  else session_starttls(p, in, out);
  closefd(&in[0]); closefd(&in[1]); closefd(&out[0]); closefd(&out[1]);
}

int tlsd_pool(char const *const *argv, tlsd_opts const *o)
{
  static tlspool p = { .e = { .chain = TLS_CHAIN_ZERO }, .w = POOLWORKER_ZERO, .app = -1, .rec = STRALLOC_ZERO, .info = STRALLOC_ZERO, .stamp = STRALLOC_ZERO };
  int sv[2], r, wstat;
  pid_t pid;
  p.o = o;
  /* the application first, TERN_POOL=1 still in the environment; fd 1 is
   * the launcher's /dev/null */
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) strerr_diefu1sys(111, "create the application's socket");
  pid = pspawn_fd01(argv, sv[1], 1);
  if (pid < 0) strerr_diefu2sys(111, "spawn ", argv[0]);
  close(sv[1]);
  p.app = sv[0];
  r = poolworker_init(&p.w);
  if (r <= 0) strerr_diefu1sys(111, "set up as a pool worker");
  if (!stamp(&p.stamp, o)) strerr_diefu1sys(111, "stat the key and certificate");
  tlsd_load(&p.e, o);
  tlsd_drop_privileges(o);
  while ((r = poolworker_next(&p.w)) > 0) session(&p);
  if (r < 0) strerr_diefusys(111, "read the launcher's record");
  /* end of file to the application worker: it exits */
  close(p.app);
  if (wait_pid(pid, &wstat) < 0) strerr_diefu1sys(111, "wait for the application worker");
  return 0;
}
