/* remote_smtp.h: one SMTP client session of tern-remote, from the greeting
 * to QUIT, for one message and all its recipients at one host.
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
  int msgfd;             /* the queue file */
  uint64_t msglen;       /* its message part */
  int tlspolicy;         /* enum tlspolicy (remote_route.h) */
  anchors const *anchors;   /* for TLS_VERIFY */
  tls_suites const *suites; /* the cipher suites to offer (control/tlsciphersremote) */
  char const *user;      /* AUTH credentials, or 0 */
  char const *pass;
};

enum smtp_outcome
{
  SMTP_DONE,       /* every rres has a status */
  SMTP_NEXT,       /* nothing was decided: try the next host (why says what happened) */
  SMTP_PLAIN       /* the TLS handshake failed and policy allows plaintext: retry without */
};

/* Runs the session on the open connection c (greeting not yet read).
 * host is "name [ip]" for the texts; tlsname the name for SNI and
 * verification (0: none); notls skips STARTTLS. Closes nothing. */
extern int smtp_session(conn *c, smtpjob const *job, char const *host, char const *tlsname,
                        int notls, rres *res, stralloc *why);

#endif
