/* smtp_conn.h: what tern-smtpd's session lends its parts (smtpd/layers):
 * the settings and what is known of the client, read-only, and the
 * flags a part returns for the session to act on.
 *
 * smtpd/ is one-way: tern-smtpd.c runs the session (smtp_session.c),
 * which calls the parts (the transaction, AUTH, STARTTLS, the greeting
 * pause), which call the checks and the base (I/O, parsers, the queue);
 * nothing calls back up. A part gets the client's smtp_io to read and
 * answer on and an smtp_conn const *; it changes no session state itself
 * but returns SMTP_R_* flags (a client error to count, the end of the
 * session, TLS on, a login) and the session applies them. */
#ifndef TERN_SMTP_CONN_H
#define TERN_SMTP_CONN_H

#include "smtp_bad.h"
#include "smtp_conf.h"
#include "smtp_relay.h"

/* The dialogue's phase: the session moves it, the parts read it. */
enum { SMTP_ST_START, SMTP_ST_HELO, SMTP_ST_MAIL, SMTP_ST_RCPT };

/* What a part returns: 0, or these or'ed. */
#define SMTP_R_ERROR 1     /* the reply given was a client error: counts towards maxerrors */
#define SMTP_R_QUIT 2      /* end the session */
#define SMTP_R_TLS 4       /* STARTTLS succeeded: forget the dialogue (RFC 3207 4.2) */
#define SMTP_R_AUTH 8      /* AUTH succeeded: the client is the part's user */
#define SMTP_R_DONE 16     /* MAIL or RCPT accepted: the session moves on a phase */

typedef struct smtp_conn_s smtp_conn;
struct smtp_conn_s
{
  smtp_conf const *conf;
  relay const *relay;
  smtp_bad const *bad;      /* badmailfrom, badrcptto (smtp_bad.h), or 0 */
  char const *queueprog;
  char const *queuesock;    /* the queue writer's socket, or 0 */
  char const *remoteip;     /* TCPREMOTEIP */
  char const *remotehost;   /* TCPREMOTEHOST, or 0 */
  char const *relayclient;  /* RELAYCLIENT, or 0 when unset */
  int tls;                  /* the session runs over TLS */
  char const *tlsinfo;      /* "TLSv1.2 CIPHER" for the Received line, or 0 */
  char const *authuser;     /* the authenticated user, or 0 */
  int esmtp;                /* EHLO, not HELO */
  char const *helo;         /* the HELO/EHLO name */
  int state;                /* SMTP_ST_* */
};

#endif
