/* smtp_auth.h: STARTTLS (RFC 3207) and SMTP AUTH (RFC 4954) for tern-smtpd:
 * the settings, the EHLO keywords, the two verbs and the submission rule.
 * docs/auth.md, docs/tls.md. */
#ifndef TERN_SMTP_AUTH_H
#define TERN_SMTP_AUTH_H

#include <skalibs/stralloc.h>
#include "ucspitls.h"
#include "smtp_cmd.h"
#include "smtp_session.h"

typedef struct smtp_auth_s smtp_auth;
struct smtp_auth_s
{
  char const *const *checkprog;  /* the checkpassword program and its args; 0: no AUTH */
  int plaintext;                 /* -p: AUTH allowed without TLS */
  int submission;                /* -s: MAIL needs AUTH first */
  int starttls;                  /* STARTTLS offered (under tern-tlsd, not yet TLS) */
  ucspitls u;
  int ucspi;                     /* u came from the environment: ours to close at the end */
  unsigned int failures;
  stralloc user;                 /* the authenticated user (s->authuser points here) */
  stralloc tlsinfo;              /* "TLSv1.2 CIPHER", for the Received line */
};
#define SMTP_AUTH_ZERO { .checkprog = 0, .plaintext = 0, .submission = 0, .starttls = 0, .ucspi = 0, .failures = 0, .user = STRALLOC_ZERO, .tlsinfo = STRALLOC_ZERO }

/* Attaches a to s and looks at the environment: TLS already on (tern-tlsd
 * -i sets SSL_PROTOCOL) or offered (SSLCTLFD...). 1 ok, 0 out of memory. */
extern int smtp_auth_init(smtp_auth *a, smtp_session *s);

/* The session is over: closes the UCSPI-TLS fds it still holds (a pooled
 * worker lives on; nothing may reach the next session). */
extern void smtp_auth_end(smtp_auth *a);

/* Adds STARTTLS and AUTH to the EHLO keywords kw[n..max); returns the new n. */
extern unsigned int smtp_auth_keywords(smtp_session const *s, char const **kw, unsigned int n, unsigned int max);

extern void smtp_auth_command(smtp_session *s, smtp_cmd const *c);
extern void smtp_starttls_command(smtp_session *s, smtp_cmd const *c);

/* Submission mode: 1 when MAIL may go on; otherwise replies 530 and returns 0. */
extern int smtp_auth_mail_ok(smtp_session *s);

/* Appends " (TLSv1.2 CIPHER; authenticated as USER)" to a Received line,
 * or as much of it as applies. */
extern void smtp_auth_received(smtp_session const *s, stralloc *h);

/* Runs the checkpassword program with user and password on its fd 3.
 * 0 good login, 1 bad login, 2 the program could not run or failed
 * otherwise (exit 111, 2, killed, timeout). */
extern int smtp_auth_check(char const *const *prog, char const *user, char const *pass, unsigned int timeout);

#endif
