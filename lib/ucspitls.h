/* ucspitls.h: the application side of UCSPI-TLS, for programs run under
 * tern-tlsd in STARTTLS mode (tern-smtpd's STARTTLS, tern-pop3d's STLS).
 * See docs/INTERNALS.md, section UCSPI-TLS. */
#ifndef TERN_UCSPITLS_H
#define TERN_UCSPITLS_H

#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

typedef struct ucspitls_s ucspitls;
struct ucspitls_s
{
  int ctl;   /* SSLCTLFD: write 'Y' or 'y', read the info block */
  int rfd;   /* SSLREADFD: plaintext from the client once TLS is up */
  int wfd;   /* SSLWRITEFD: plaintext to the client once TLS is up */
};

/* 1 when the environment offers STARTTLS (SSLCTLFD, SSLREADFD and
 * SSLWRITEFD are distinct descriptor numbers above 2, and TLS is not already
 * on), filling u; 0 otherwise. */
extern int ucspitls_available(ucspitls *u);

/* Starts TLS: the caller has already sent its "go ahead" reply (SMTP 220,
 * POP3 +OK) on fd 1 and must discard anything it buffered from fd 0 (the
 * client may not pipeline past STARTTLS). Writes 'Y' on the control fd and
 * waits until deadline for the handshake's result. On success (1): info
 * holds "SSL_PROTOCOL=...\0SSL_CIPHER=...\0..." (each entry NUL-ended), the
 * three descriptors are close-on-exec, the control fd is closed, and the
 * environment is changed the way tern-tlsd -i sets it: SSL_PROTOCOL,
 * SSL_CIPHER (and SSL_TLS_SNI_SERVERNAME) set, SSLCTLFD, SSLREADFD,
 * SSLWRITEFD removed, so that programs run later see TLS as on.
 * On failure (0, errno: EPIPE the handshake failed, ETIMEDOUT, EPROTO a
 * malformed answer, or a system error) the caller should end the session:
 * the client is not talking plaintext any more. */
extern int ucspitls_start(ucspitls *u, stralloc *info, tain const *deadline);

/* Moves the TLS plaintext descriptors onto 0 and 1 (closing the socket
 * there), so the caller and the programs it execs keep using 0 and 1.
 * 1 ok, 0 system error. */
extern int ucspitls_onto01(ucspitls *u);

/* Closes the descriptors of u still above 2 (a pooled worker's session
 * that ends without TLS, or whose TLS failed, leaves no fd to the next)
 * and sets them to -1. */
extern void ucspitls_close(ucspitls *u);

/* The value of NAME in an info block, or 0. */
extern char const *ucspitls_get(stralloc const *info, char const *name);

#endif
