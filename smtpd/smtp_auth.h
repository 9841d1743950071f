/* smtp_auth.h: SMTP AUTH (RFC 4954) for tern-smtpd: the settings, the EHLO
 * keyword, the verb and the submission rule. docs/auth.md. */
#ifndef TERN_SMTP_AUTH_H
#define TERN_SMTP_AUTH_H

#include <skalibs/stralloc.h>
#include "smtp_cmd.h"
#include "smtp_conn.h"
#include "smtp_io.h"

typedef struct smtp_auth_s smtp_auth;
struct smtp_auth_s
{
  char const *const *checkprog;  /* the checkpassword program and its args; 0: no AUTH */
  int plaintext;                 /* -p: AUTH allowed without TLS */
  int submission;                /* -s: MAIL needs AUTH first */
  unsigned int failures;
  stralloc user;                 /* the authenticated user, after SMTP_R_AUTH */
};
#define SMTP_AUTH_ZERO { .checkprog = 0, .plaintext = 0, .submission = 0, .failures = 0, .user = STRALLOC_ZERO }

/* A new session: no failures, no user (a pooled worker's previous session
 * leaves nothing behind). */
extern void smtp_auth_init(smtp_auth *a);

/* The EHLO keyword to add ("AUTH PLAIN LOGIN"), or 0: mechanisms only
 * where they may be used (RFC 4954 section 4). a may be 0 (no AUTH). */
extern char const *smtp_auth_keyword(smtp_auth const *a, int tls);

/* The AUTH verb, with its exchange on io. SMTP_R_AUTH when the client
 * logged in (a->user holds the name, cleaned for logs and headers);
 * otherwise 0, SMTP_R_ERROR or SMTP_R_QUIT. a may be 0. */
extern int smtp_auth_command(smtp_auth *a, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c);

/* Submission mode: 0 when MAIL may go on; otherwise replies 530 and
 * returns SMTP_R_ERROR. a may be 0. */
extern int smtp_auth_mail(smtp_auth const *a, smtp_io *io, smtp_conn const *cn);

#endif
