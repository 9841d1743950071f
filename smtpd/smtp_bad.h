/* smtp_bad.h: qmail's badmailfrom and badrcptto for tern-smtpd.
 *
 * control/badmailfrom and control/badrcptto hold one address a line, or
 * "@domain" for every address of that domain (exactly that domain, not
 * below it), compared case-insensitively with the canonical address
 * (lib/addr.h), so quoting, a trailing dot or upper case do not slip
 * past a line. A listed sender gets 553 5.7.1 at each RCPT (as
 * qmail-smtpd answers: some clients retry a refused MAIL forever), a listed
 * recipient 553 5.7.1 at its RCPT. They apply to every client, trusted and
 * authenticated ones too (docs/smtpd.md). */
#ifndef TERN_SMTP_BAD_H
#define TERN_SMTP_BAD_H

#include <skalibs/stralloc.h>
#include "addr.h"

typedef struct smtp_bad_s smtp_bad;
struct smtp_bad_s
{
  stralloc from;   /* badmailfrom lines, lowercased, each NUL-terminated */
  stralloc rcpt;   /* badrcptto lines, the same */
};
#define SMTP_BAD_ZERO { .from = STRALLOC_ZERO, .rcpt = STRALLOC_ZERO }

/* Reads both files (missing: nothing is refused). 1 ok, 0 error with
 * *what naming the file (errno set). */
extern int smtp_bad_load(smtp_bad *b, char const **what);
extern void smtp_bad_free(smtp_bad *b);

/* 1 when the canonical address a (NUL-terminated) is listed in list:
 * the whole address, or "@" and its domain. The null sender never is. */
extern int smtp_bad_listed(stralloc const *list, char const *a);

/* The RCPT hook: the refusal for this transaction's sender (sender, the
 * canonical MAIL FROM address) or this recipient, or 0 when neither is
 * listed; *why gets short words for the log. b may be 0 (no lists). */
extern char const *smtp_bad_check(smtp_bad const *b, char const *sender, char const *rcpt, char const **why);

#endif
