/* smtp_session.h: one SMTP session of tern-smtpd: the state machine and
 * the dispatch of the verbs to the parts (smtpd/layers): the transaction
 * (smtp_txn.h), AUTH (smtp_auth.h), STARTTLS (smtp_starttls.h), the
 * greeting pause (smtp_greet.h). The parts never call back: they read
 * s->conn, answer on s->io and return SMTP_R_* flags (smtp_conn.h) that
 * the session applies. */
#ifndef TERN_SMTP_SESSION_H
#define TERN_SMTP_SESSION_H

#include <skalibs/stralloc.h>
#include "smtp_auth.h"
#include "smtp_conf.h"
#include "smtp_conn.h"
#include "smtp_io.h"
#include "smtp_relay.h"
#include "smtp_starttls.h"
#include "smtp_txn.h"

typedef struct smtp_session_s smtp_session;
struct smtp_session_s
{
  smtp_io io;
  smtp_conn conn;           /* what the parts may read; only the session writes it */
  smtp_auth *auth;          /* AUTH (smtp_auth.h), or 0 */
  smtp_tls *tls;            /* STARTTLS (smtp_starttls.h), or 0 */
  smtp_txn txn;
  int quit;                 /* set when the session must end */
  unsigned int errors;
  stralloc helo;
  stralloc line;
};

/* The caller then sets what it knows of the client in s->conn (remoteip,
 * remotehost, relayclient, bad, queuesock) and attaches the parts. */
extern void smtp_session_init(smtp_session *s, smtp_conf const *c, relay const *r, char const *queueprog);

/* Attaches AUTH and TLS (either may be 0), set up for this session
 * (smtp_auth_init, smtp_tls_init). */
extern void smtp_session_parts(smtp_session *s, smtp_auth *a, smtp_tls *t);

extern void smtp_session_free(smtp_session *s);

/* Greets, then reads and answers commands until QUIT, EOF, timeout or too
 * many errors. */
extern void smtp_session_run(smtp_session *s);

/* Answers one command line (exposed for tests). */
extern void smtp_session_command(smtp_session *s, char const *line, size_t len);

#endif
