/* relay_db.h: POP-before-SMTP records, one empty file per client address.
 *
 * A record is $RELAY_DIR/ADDR (default $TERN_HOME/relay, or control/relaydir)
 * where ADDR is the canonical text of the client's IPv4 or IPv6 address; the
 * file's mtime is the login time. tern-pop3d -m writes records once a POP3
 * session is established (asked by tern-relayallow through RELAY_GRANT_ENV),
 * and tern-relaycheck reads and prunes them. Temporary files start with '.',
 * so they are never mistaken for records.
 *
 * SECURITY: the address comes from the environment (TCPREMOTEIP). It is parsed
 * and re-formatted before it is used as a file name, so a name never holds a
 * '/', never starts with '.', and two spellings of one address meet in one
 * file. */
#ifndef TERN_RELAY_DB_H
#define TERN_RELAY_DB_H

#include <stddef.h>
#include <time.h>
#include <skalibs/stralloc.h>

#define RELAY_NAME_MAX 46   /* IP46_FMT: the longest IPv6 text, plus NUL */
#define RELAY_EXPIRY_DEFAULT 180
#define RELAY_EXPIRY_MAX 5256000 /* ten years, in minutes: keeps seconds in range */

/* Set (to "1") by tern-relayallow for the mailbox program after it: record
 * the client once the session is established, not before. */
#define RELAY_GRANT_ENV "TERN_RELAYALLOW"

/* Writes the canonical file name for the address text ip into out
 * (RELAY_NAME_MAX bytes). An IPv4-mapped IPv6 address becomes the IPv4 one.
 * 1 ok, 0 when ip is not exactly one address. */
extern int relay_name(char *out, char const *ip);

/* The relay directory: $RELAY_DIR, else control/relaydir (relative to
 * $TERN_HOME unless absolute), else $TERN_HOME/relay. NUL-terminated in sa.
 * 1 ok, -1 error (errno set). */
extern int relay_dir(stralloc *sa);

/* Minutes a record stays valid: $RELAY_EXPIRY, else control/relayexpiry,
 * else 180. 0 means records are never honoured. 1 ok, -1 error (errno
 * EINVAL when the value is not a number or exceeds RELAY_EXPIRY_MAX). */
extern int relay_expiry(unsigned int *minutes);

/* Creates or refreshes dir/name atomically (a '.'-file, then rename), with
 * mtime now. 1 ok, -1 error (errno set). */
extern int relay_record(char const *dir, char const *name);

/* 1 when dir/name exists and is younger than maxage seconds at now; 0 when
 * it is missing, or stale (then it is removed); -1 error (errno set). */
extern int relay_fresh(char const *dir, char const *name, time_t now, time_t maxage);

/* Records $TCPREMOTEIP in the relay directory: the POP-before-SMTP grant.
 * Never fails the caller: trouble is logged as a warning (the user loses
 * relaying, not their mail), success as "relay allowed for ADDR". */
extern void relay_grant(void);

/* The POP-before-SMTP decision for $TCPREMOTEIP (tern-relaycheck, and
 * tern-smtpd -P as a pooled worker): 1 when it has a fresh record. Stale
 * records are removed, the client's own at once and all of them in a sweep
 * at most once a minute. Any trouble only means no relay (logged): SMTP
 * service goes on. A grant is logged "relay granted to ADDR". */
extern int relay_check(void);

/* Removes every stale record in dir, and temporary files older than an hour.
 * Returns the number removed, -1 when dir cannot be read. */
extern int relay_sweep(char const *dir, time_t now, time_t maxage);

/* 1 when the sweep marker dir/.sweep is missing or older than every seconds
 * (it is then touched, so one of several concurrent callers sweeps); 0
 * otherwise. */
extern int relay_sweep_due(char const *dir, time_t now, time_t every);

#endif
