/* smtp_session.h: one SMTP session of tern-smtpd: the state machine, the
 * verbs, and the transaction (envelope, DATA, log line).
 *
 * Hooks for the TLS/AUTH issue: `tls` and `authuser` feed the relay decision
 * and the Received protocol name (ESMTPS/ESMTPA/ESMTPSA); smtp_ehlo_keywords
 * is where STARTTLS and AUTH get advertised; before switching to TLS the
 * caller must drop buffered plaintext (smtp_io_pending/smtp_io_discard). */
#ifndef TERN_SMTP_SESSION_H
#define TERN_SMTP_SESSION_H

#include <skalibs/stralloc.h>
#include "smtp_cmd.h"
#include "smtp_conf.h"
#include "smtp_io.h"
#include "smtp_relay.h"

enum { SMTP_ST_START, SMTP_ST_HELO, SMTP_ST_MAIL, SMTP_ST_RCPT };

typedef struct smtp_session_s smtp_session;
struct smtp_session_s
{
  smtp_io io;
  smtp_conf const *conf;
  relay const *relay;
  char const *queueprog;
  char const *queuesock;    /* the queue writer's socket, or 0 */
  char const *remoteip;     /* TCPREMOTEIP */
  char const *remotehost;   /* TCPREMOTEHOST, or 0 */
  char const *relayclient;  /* RELAYCLIENT, or 0 when unset */
  int tls;                  /* hook: the session runs over TLS */
  char const *authuser;     /* hook: the authenticated user, or 0 */
  struct smtp_auth_s *auth; /* STARTTLS and AUTH (smtp_auth.h), or 0 */
  int state;
  int esmtp;
  int quit;                 /* set when the session must end */
  unsigned int errors;
  unsigned int nrcpt;
  unsigned int refused;     /* recipients refused in the session (smtp_tarpit.h) */
  uint64_t declared;        /* SIZE= of MAIL, 0 when absent */
  stralloc helo;
  stralloc line;
  stralloc envelope;        /* F and T records of the transaction */
  stralloc log;             /* the transaction's log line so far */
  smtp_mailargs m;
};

extern void smtp_session_init(smtp_session *s, smtp_conf const *c, relay const *r, char const *queueprog);

extern void smtp_session_free(smtp_session *s);

/* Greets, then reads and answers commands until QUIT, EOF, timeout or too
 * many errors. */
extern void smtp_session_run(smtp_session *s);

/* The pause of GREETDELAY ms before the greeting (smtp_greet.c): 1 greet
 * the client; 0 it spoke first (answered 554, logged) or left: end. */
extern int smtp_greet_wait(smtp_session *s);

/* Answers one command line (exposed for the TLS layer and tests). */
extern void smtp_session_command(smtp_session *s, char const *line, size_t len);

/* Replies with a client error, counted towards maxerrors. */
extern void smtp_session_error(smtp_session *s, char const *reply);

/* EHLO keywords after the greeting line: fills kw, returns how many. */
extern unsigned int smtp_ehlo_keywords(smtp_session *s, char const **kw, unsigned int max, char *sizebuf);

/* The transaction (smtp_txn.c). */
extern void smtp_txn_reset(smtp_session *s, char const *outcome);
extern void smtp_txn_data(smtp_session *s);
extern void smtp_txn_logrcpt(smtp_session *s, char const *a, char const *what);
extern void smtp_log(char const *const *parts, unsigned int n);

#endif
