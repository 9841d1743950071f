/* remote_tls.h: the client side of STARTTLS for tern-remote (BearSSL).
 *
 * Two ways to treat the server's certificate: opportunistic (the default for
 * MX hosts, whose certificates rarely match their names) accepts any chain
 * and only takes the server's public key from it, which protects against a
 * passive eavesdropper but not an active one; verified (tlsroutes `verify`)
 * checks the chain against trust anchors (control/tlsca, default the system
 * bundle) and the host name. BearSSL has no accept-anything engine, so the
 * first is a small br_x509_class of ours (remote_tls.c). */
#ifndef TERN_REMOTE_TLS_H
#define TERN_REMOTE_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include <bearssl.h>
#include <skalibs/genalloc.h>
#include "remote_conn.h"   /* the rtls typedef */
#include "tls.h"

/* Trust anchors read from a PEM bundle. */
typedef struct anchors_s anchors;
struct anchors_s
{
  genalloc ta;   /* br_x509_trust_anchor, each with its own allocated bytes */
};
#define ANCHORS_ZERO { .ta = GENALLOC_ZERO }

/* Reads every CERTIFICATE of the PEM file at path as a trust anchor.
 * Returns the number read (0: none usable), -1 on a read error (errno). */
extern int anchors_load(anchors *a, char const *path);
extern void anchors_free(anchors *a);

/* Runs the TLS handshake on fd. With a (verify), the chain must lead to one
 * of its anchors and match servername (when not 0); without, any chain is
 * accepted. servername is also sent as SNI. suites: what to offer (0: the
 * default, lib/tls.h). Returns the engine, or 0 with
 * a short text in err[0..errlen) (errlen > 0). */
extern rtls *rtls_start(int fd, unsigned int timeout, char const *servername, anchors const *a, tls_suites const *suites, char *err, size_t errlen);

/* The same with a (required) checked as verify would, but the result only
 * recorded: the handshake goes on as opportunistic (MTA-STS testing). */
extern rtls *rtls_start_observe(int fd, unsigned int timeout, char const *servername, anchors const *a, tls_suites const *suites, char *err, size_t errlen);
/* After rtls_start_observe: 0 when the chain verified, else why not. */
extern char const *rtls_observed(rtls const *t);

/* The RFC 8460 result type (TLS reporting) of a failure text of rtls_start
 * (err) or rtls_observed; "success" for 0. */
extern char const *rtls_result(char const *err);

/* >0 bytes read, 0 the peer closed TLS cleanly, -1 error (rtls_error). */
extern ssize_t rtls_read(rtls *t, char *s, size_t n);
/* Writes and flushes all of s. 1 ok, 0 error (rtls_error). */
extern int rtls_write(rtls *t, char const *s, size_t n);
extern char const *rtls_error(rtls *t);
/* "TLSv1.2 cipher 0xC02F" for the delivery report. */
extern char const *rtls_describe(rtls *t);
extern void rtls_free(rtls *t);

#endif
