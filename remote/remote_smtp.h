/* remote_smtp.h: one SMTP client session of tern-remote, from the greeting
 * to QUIT, for one or more messages (each with its recipients) at one host.
 *
 * SECURITY: everything the server says is untrusted: replies are bounded in
 * line length and count, parsed strictly (three digits, then ' ' or '-'), and
 * only reach our report through report_put, which neutralises control bytes.
 * Nothing the server pipelines before the TLS handshake is read as a reply
 * after it (the session is dropped). The password for AUTH is never sent
 * without TLS. */
#ifndef TERN_REMOTE_SMTP_H
#define TERN_REMOTE_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include "remote_conn.h"
#include "remote_tls.h"

/* What one recipient got. */
typedef struct rres_s rres;
struct rres_s
{
  char status;      /* 'K', 'Z', 'D' (report.h), 0 while unknown */
  stralloc text;    /* NUL-terminated */
};

typedef struct smtpjob_s smtpjob;
struct smtpjob_s
{
  char const *helo;
  char const *sender;
  char const *const *rcpts;
  size_t nrcpt;
  char const *mparams;         /* DSN parameters of MAIL (lib/dsn.h), or 0 */
  char const *const *rparams;  /* per recipient, or 0; each may be 0 */
  int msgfd;             /* the queue file */
  uint64_t msglen;       /* its message part */
  int tlspolicy;         /* enum tlspolicy (remote_route.h) */
  anchors const *anchors;   /* for TLS_VERIFY, and observe */
  int observe;           /* below TLS_VERIFY: check the certificate as verify would, only to record it (MTA-STS testing) */
  tls_suites const *suites; /* the cipher suites to offer (control/tlsciphersremote) */
  char const *user;      /* AUTH credentials, or 0 */
  char const *pass;
};

enum smtp_outcome
{
  SMTP_DONE,       /* every rres has a status */
  SMTP_NEXT,       /* nothing was decided: try the next host (why says what happened) */
  SMTP_PLAIN,      /* the TLS handshake failed and policy allows plaintext: retry without */
  SMTP_READY       /* the session is open: messages may follow (smtp_message) */
};

/* One SMTP session on one connection: opened once, then one message after
 * another (RSET between them), then closed. job and res are the current
 * message's (set before smtp_open and each smtp_message); job's helo,
 * tlspolicy, anchors, user and pass are the connection's. */
typedef struct sess_s sess;
struct sess_s
{
  conn *c;
  int dropped;      /* the connection is no good: no QUIT, no next message */
  unsigned int used;   /* messages begun on it */
  smtpjob const *job;
  char const *host;    /* "name [ip]" for the texts */
  rres *res;
  stralloc *why;
  stralloc line;
  stralloc text;    /* the last reply as one line: "250 first / second" */
  stralloc ext;     /* its lines after the code, each NUL-terminated */
  int pipelining, starttls, auth_plain, auth_login, dsn;
  char const *tlsres;  /* how STARTTLS went, as an RFC 8460 result type ("success", ...); 0: not tried */
  uint64_t size;
};

/* Reads the greeting on the open connection s->c, says EHLO (or HELO),
 * STARTTLS and AUTH as the policy says. tlsname is the name for SNI and
 * verification (0: none); notls skips STARTTLS. SMTP_READY, or SMTP_NEXT /
 * SMTP_PLAIN (s->why says why), or SMTP_DONE: every rres of s->job has a
 * status (AUTH refused). Closes nothing. */
extern int smtp_open(sess *s, char const *tlsname, int notls);

/* Sends s->job's message in one transaction (after RSET when the session
 * was used before). 1: every rres has a status; 0: the connection could
 * not start it (RSET refused, connection gone): nothing set, try another
 * connection. s->dropped tells whether the connection can carry more. */
extern int smtp_message(sess *s);

/* QUIT (unless the connection was dropped); frees the session's buffers.
 * The caller closes the connection. */
extern void smtp_close(sess *s);

#endif
