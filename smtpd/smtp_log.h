/* smtp_log.h: tern-smtpd's log lines: one line per event on stderr,
 * "tern-smtpd: info:" and the parts given, for s6-log to timestamp. */
#ifndef TERN_SMTP_LOG_H
#define TERN_SMTP_LOG_H

/* Writes the n parts as one line (an allocation failure drops the line). */
extern void smtp_log(char const *const *parts, unsigned int n);

#endif
