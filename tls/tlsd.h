/* tlsd.h: tern-tlsd's settings and the engine parts its classic and pooled
 * modes share (tern-tlsd.c, tlsd_engine.c, tlsd_pool.c). */
#ifndef TERN_TLSD_H
#define TERN_TLSD_H

#include <sys/types.h>
#include <bearssl.h>
#include "tls.h"
#include "tlsd_io.h"

typedef struct tlsd_opts_s tlsd_opts;
struct tlsd_opts_s
{
  int implicit;             /* -i: TLS from the first byte */
  unsigned int hstimeout;   /* -t: seconds for the handshake (30) */
  unsigned int stresssecs;  /* -s: ... under stress (TERN_STRESS) */
  char const *key, *cert;
  uid_t uid;
  gid_t gid;
  int haveuid, havegid;
};

/* The key, the chain and the engine: loaded once, reset per session. */
typedef struct tlsd_engine_s tlsd_engine;
struct tlsd_engine_s
{
  br_ssl_server_context sc;
  tls_key key;
  tls_chain chain;
  unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* Loads the key, the certificate and control/tlsciphers into e (dies 111
 * on trouble, saying why). */
extern void tlsd_load(tlsd_engine *e, tlsd_opts const *o);

/* As root: to TLS_UID/TLS_GID (-u/-g); otherwise nothing. */
extern void tlsd_drop_privileges(tlsd_opts const *o);

/* Logs why TLS ended badly (r as returned by tlsd_io). */
extern void tlsd_report(char const *when, int r);

/* The network side is the connection on fds 0/1: non-blocking, no Nagle.
 * Then the handshake within this connection's timeout (-t, or -s under
 * stress), logged either way. 1 done, 0 failed. */
extern int tlsd_handshake01(tlsd_engine *e, tlsd_fds *f, tlsd_opts const *o);

/* STARTTLS: waits for 'Y' or 'y' on the UCSPI-TLS control socket. The
 * byte, or 0 when the application ended (end of file: in a pooled worker,
 * its session ended without TLS) or broke the protocol first. */
extern char tlsd_wait_start(int ctl);

/* tlsd_pool.c: the pooled worker (TERN_POOL set by tern-tcpserver -w):
 * session after session, each handed on to one resident application
 * worker. Returns the exit code. */
extern int tlsd_pool(char const *const *argv, tlsd_opts const *o);

#endif
