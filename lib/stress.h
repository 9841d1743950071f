/* stress.h: TERN_STRESS, the launcher's word that its connection slots are
 * nearly all busy (tern-tcpserver -S). Programs that wait on a stranger
 * (tern-smtpd, tern-rblsmtpd, tern-pop3d before login, tern-tlsd's
 * handshake) then use a short timeout, so idle connections give their
 * slots back within seconds. Set per connection by the launcher: a
 * connection keeps the value it started with (docs/tern-tcpserver.8). */
#ifndef TERN_STRESS_H
#define TERN_STRESS_H

#define STRESS_TIMEOUT_DEFAULT 10   /* seconds, as Postfix's ${stress?10} */

/* 1 when TERN_STRESS is set, not empty and not "0". */
extern int stress_on(void);

/* The timeout to use: normal, or shortone when under stress and shorter. */
extern unsigned int stress_timeout(unsigned int normal, unsigned int shortone);

#endif
