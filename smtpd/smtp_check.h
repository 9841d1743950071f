/* smtp_check.h: running a checkpassword program for tern-smtpd's AUTH. */
#ifndef TERN_SMTP_CHECK_H
#define TERN_SMTP_CHECK_H

/* Runs the checkpassword program with user and password on its fd 3.
 * 0 good login, 1 bad login, 2 the program could not run or failed
 * otherwise (exit 111, 2, killed, timeout). */
extern int smtp_auth_check(char const *const *prog, char const *user, char const *pass, unsigned int timeout);

#endif
