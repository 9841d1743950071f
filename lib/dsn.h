/* dsn.h: the parameters of the SMTP DSN extension (RFC 3461) as they travel
 * in the envelope (lib/envelope.h: an M record after F, an N record after a
 * T), and what tern-send and tern-remote read from them.
 *
 * The records hold the parameters in their SMTP form, keywords upper case,
 * values exactly as the client sent them (xtext), separated by one space:
 *   M  "RET=HDRS ENVID=QQ314159"
 *   N  "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40example.test"
 * so tern-remote can pass them on to a next hop that speaks DSN unchanged.
 * tern-smtpd has checked them (smtpd/smtp_cmd.c); the envelope parser still
 * accepts only printable ASCII with single spaces here, and every reader
 * decodes xtext through dsn_xtext_cat(), which turns controls into '?'. */
#ifndef TERN_DSN_H
#define TERN_DSN_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define DSN_NOTIFY_SUCCESS 1
#define DSN_NOTIFY_DELAY   2
#define DSN_NOTIFY_FAILURE 4
#define DSN_NOTIFY_NEVER   8
/* No NOTIFY: failures and delays are reported (RFC 3461 4.1 leaves the
 * choice to us; this is what senders got before the extension). */
#define DSN_NOTIFY_DEFAULT (DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY)

#define DSN_ENVID_MAX 100  /* RFC 3461 4.4 */
#define DSN_ORCPT_MAX 500  /* RFC 3461 4.2 */
#define DSN_PARAMS_MAX 640 /* a whole M or N record: the two above fit */

/* tern-remote starts the text of a K record with this when the next hop
 * took the message with the DSN extension: reports are its business then,
 * and tern-send sends no success report for that recipient. */
#define DSN_PASSED "DSN passed on: "

/* Is s[0..n) xtext (RFC 3461 4: printable ASCII but '+' and '=', or
 * "+XX" with two upper-case hex digits)? Empty is not. */
extern int dsn_xtext_ok(char const *s, size_t n);

/* Is s[0..n) what an M or N record may hold: printable ASCII words
 * separated by single spaces, at most DSN_PARAMS_MAX bytes? */
extern int dsn_record_ok(char const *s, size_t n);

/* The value of parameter name ("NOTIFY") in params (a record, or 0):
 * a pointer into params and its length in *len, or 0 when absent. */
extern char const *dsn_param(char const *params, char const *name, size_t *len);

/* The NOTIFY flags of a recipient's N record (0: none): DSN_NOTIFY_DEFAULT
 * when it gives no NOTIFY. */
extern unsigned int dsn_notify(char const *rparams);

/* RET=HDRS in the M record (0: none)? */
extern int dsn_ret_hdrs(char const *mparams);
/* RET=FULL in the M record? */
extern int dsn_ret_full(char const *mparams);

/* Appends the xtext x[0..n) decoded, controls and non-ASCII as '?', at
 * most max bytes of output. 1 ok, 0 out of memory. */
extern int dsn_xtext_cat(stralloc *sa, char const *x, size_t n, size_t max);

#endif
