/* tlsd_engine.c: loading the key and the engine, the privilege drop and the logged handshake, for both modes of tern-tlsd. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/setgroups.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "control.h"
#include "stress.h"
#include "tlsd.h"

void tlsd_drop_privileges(tlsd_opts const *o)
{
  if (geteuid()) return;
  if (!o->haveuid || !o->havegid)
  {
    strerr_warnw1x("running the TLS engine as root: set TLS_UID and TLS_GID");
    return;
  }
  if (setgroups_and_gid(o->gid, 1, &o->gid) < 0) strerr_diefu1sys(111, "set the TLS group");
  if (setuid(o->uid) < 0) strerr_diefu1sys(111, "set the TLS user");
}

/* control/tlsciphers, or the forward-secret AEAD default (tls.h). */
static void load_suites(br_ssl_server_context *sc)
{
  tls_suites suites;
  stralloc why = STRALLOC_ZERO;
  int r = tls_suites_load(&suites, "tlsciphers", &why);
  if (r < 0) control_die(111, "tlsciphers");
  if (!r) strerr_dief1x(111, why.len ? why.s : "bad control/tlsciphers");
  tls_suites_apply(&sc->eng, &suites);
  stralloc_free(&why);
}

void tlsd_load(tlsd_engine *e, tlsd_opts const *o)
{
  char const *why;
  if (!tls_key_load(&e->key, o->key, &why))
  {
    if (why) strerr_dief4x(111, "bad private key in ", o->key, ": ", why);
    strerr_diefu2sys(111, "read the private key ", o->key);
  }
  if (!tls_chain_load(&e->chain, o->cert, &why))
  {
    if (why) strerr_dief4x(111, "bad certificate in ", o->cert, ": ", why);
    strerr_diefu2sys(111, "read the certificate ", o->cert);
  }
  if (!tls_server_init(&e->sc, &e->key, &e->chain, e->iobuf, sizeof e->iobuf))
    strerr_dief4x(111, "the key in ", o->key, " does not match the type of the certificate in ", o->cert);
  load_suites(&e->sc);
  if (!br_ssl_server_reset(&e->sc)) strerr_diefu(111, "initialise the TLS engine");
}

void tlsd_report(char const *when, int r)
{
  char buf[192];
  char const *ip = getenv("TCPREMOTEIP");
  char const *why;
  if (!ip) ip = "unknown";
  if (r < 0 && errno == ETIMEDOUT) why = "timed out";
  else if (r < 0 && errno == EPIPE) why = "the client closed the connection";
  else if (r < 0) { strerr_warnwu4sys(when, " with ", ip, ""); return; }
  else why = tls_error_text(r, buf, sizeof buf);
  strerr_warnw5x(when, " with ", ip, " failed: ", why);
}

int tlsd_handshake01(tlsd_engine *e, tlsd_fds *f, tlsd_opts const *o)
{
  tain deadline;
  int r;
  if (ndelay_on(0) < 0 || ndelay_on(1) < 0 || (f->appr >= 0 && ndelay_on(f->appr) < 0) || (f->appw >= 0 && ndelay_on(f->appw) < 0))
    strerr_diefu1sys(111, "set descriptors non-blocking");
  {
    /* Each flush is a whole record or flight: Nagle's algorithm would hold
     * the next one back for the peer's delayed ACK (40 ms per exchange).
     * Not a TCP socket (tests, pipes): nothing to do. */
    int one = 1;
    setsockopt(1, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  /* under stress a handshake that dawdles gives its slot back soon; per
   * connection, since a pooled engine serves many (TERN_STRESS is each
   * connection's) */
  tain_now_g();
  tain_addsec_g(&deadline, stress_timeout(o->hstimeout, o->stresssecs));
  r = tlsd_handshake(&e->sc.eng, f, &deadline);
  if (r) { tlsd_report("TLS handshake", r); return 0; }
  { char const *ip = getenv("TCPREMOTEIP"); strerr_warni("TLS handshake with ", ip ? ip : "unknown", ": ok"); }
  return 1;
}

char tlsd_wait_start(int ctl)
{
  char c;
  ssize_t r = fd_read(ctl, &c, 1);
  if (r == 1 && (c == 'Y' || c == 'y')) return c;
  if (r == 1) strerr_warnw1x("the application sent a bad byte on the control socket");
  return 0;
}
