/* rbl_dialog.h: the short SMTP dialogue tern-rblsmtpd holds with a blocked
 * client instead of running tern-smtpd: a greeting, the refusal to every
 * attempt to send, 221 to QUIT.
 *
 * SECURITY: reads untrusted bytes. Lines are cut at maxline (the rest up to
 * LF is discarded and answered 500), the whole dialogue ends at the deadline
 * whatever the client does, output waits for the client only until then.
 * The refusal text must already be clean (rbl_clean_text). */
#ifndef TERN_RBL_DIALOG_H
#define TERN_RBL_DIALOG_H

#include <stddef.h>
#include <skalibs/tai.h>

#define RBL_HOST "rblsmtpd.local"
#define RBL_LINE_MAX 1000     /* default bytes of one command line (RFC 5321: 512) */

enum rbl_dialog_end { RBL_END_QUIT, RBL_END_EOF, RBL_END_TIMEOUT, RBL_END_ERROR };

/* Runs the dialogue on fds in/out (made non-blocking) until QUIT, EOF, an
 * error or the deadline (STAMP must be current). code is 451 or 553.
 * Returns an enum rbl_dialog_end. */
extern int rbl_dialog(int in, int out, int code, char const *text, size_t maxline, tain const *deadline);

#endif
