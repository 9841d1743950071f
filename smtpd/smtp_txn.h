/* smtp_txn.h: one mail transaction of tern-smtpd: what MAIL, RCPT and DATA
 * do once the session has checked the phase (the envelope, the recipient
 * decision, the DATA phase into the queue, the Received header, the one
 * log line). A part of the session (smtp_conn.h): it reads the session's
 * smtp_conn, answers on its smtp_io and returns SMTP_R_* flags. */
#ifndef TERN_SMTP_TXN_H
#define TERN_SMTP_TXN_H

#include <stdint.h>
#include <skalibs/stralloc.h>
#include "smtp_cmd.h"
#include "smtp_conn.h"
#include "smtp_io.h"

typedef struct smtp_txn_s smtp_txn;
struct smtp_txn_s
{
  smtp_mailargs m;          /* MAIL's sender and parameters */
  stralloc envelope;        /* F and T records of the transaction */
  stralloc log;             /* the transaction's log line so far */
  unsigned int nrcpt;
  uint64_t declared;        /* SIZE= of MAIL, 0 when absent */
  unsigned int refused;     /* recipients refused in the session (smtp_tarpit.h): not reset per transaction */
};
#define SMTP_TXN_ZERO { .m = SMTP_MAILARGS_ZERO, .envelope = STRALLOC_ZERO, .log = STRALLOC_ZERO, .nrcpt = 0, .declared = 0, .refused = 0 }

extern void smtp_txn_free(smtp_txn *t);

/* MAIL's argument: a new transaction. SMTP_R_DONE when the sender is
 * taken (the session's phase becomes MAIL), else SMTP_R_ERROR or 0. */
extern int smtp_txn_mail(smtp_txn *t, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c);

/* RCPT's argument: the recipient decision (badrcptto, relay, the tarpit).
 * SMTP_R_DONE when the recipient is taken (the phase becomes RCPT). */
extern int smtp_txn_rcpt(smtp_txn *t, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c);

/* DATA with recipients: the message into the queue and the reply to it.
 * The transaction is over after it (the phase goes back to HELO); may
 * return SMTP_R_QUIT. */
extern int smtp_txn_data(smtp_txn *t, smtp_io *io, smtp_conn const *cn);

/* The transaction ends without a message: logs it with outcome. */
extern void smtp_txn_reset(smtp_txn *t, smtp_conn const *cn, char const *outcome);

#endif
