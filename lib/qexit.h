/* qexit.h: tern-queue's exit codes (qmail-queue's) and what they mean to a
 * client. tern-queue exits with these; tern-smtpd and tern-inject turn them
 * into replies. Codes 11-40 are permanent failures, everything else but 0 is
 * temporary (qmail's rule). */
#ifndef TERN_QEXIT_H
#define TERN_QEXIT_H

#define QEXIT_OK 0
#define QEXIT_ADDR_TOO_LONG 11
#define QEXIT_REFUSED 31
#define QEXIT_NOMEM 51
#define QEXIT_TIMEOUT 52
#define QEXIT_WRITE 53       /* write error or disk full */
#define QEXIT_READ 54        /* cannot read message or envelope */
#define QEXIT_CONFIG 55
#define QEXIT_HOME 61
#define QEXIT_QUEUE 62       /* trouble creating files in the queue */
#define QEXIT_TEMPREFUSED 71
#define QEXIT_BUG 81
#define QEXIT_ENVELOPE 91
/* Not an exit code of tern-queue: what a caller uses when it could not run
 * it (exec failed) or it died of a signal. */
#define QEXIT_EXEC 120
#define QEXIT_CRASHED 121

/* 1 when code is a permanent failure, 0 otherwise (0 included). */
extern int qexit_permanent(int code);

/* An SMTP reply for code, without the trailing CRLF, for example
 * "451 4.3.1 Queue write error or disk full; try again later". Code 0 gives
 * the start of a success reply ("250 2.0.0 Ok: queued"). Never null. */
extern char const *qexit_reply(int code);

#endif
