/* pool.h: the records between tern-tcpserver in pool mode (-w) and its
 * pre-started workers, and the worker's side of them (docs/pool.md).
 *
 * A worker is started (posix_spawn) with one end of a unix SOCK_SEQPACKET
 * socketpair on its fd 0, /dev/null on fd 1 and TERN_POOL=1 in its
 * environment. One record per packet (lib/jobmsg.h's transport):
 *
 *   launcher -> worker: "C" then the connection's environment changes, each
 *                       "NAME=value\0" (set) or "NAME\0" (remove), exactly
 *                       what the classic mode merges before its exec; the
 *                       connection's socket attached (SCM_RIGHTS)
 *
 * A pooled tern-tlsd is itself a worker of the launcher and the launcher
 * of one tern-smtpd worker (docs/pool.md, "TLS"): it sends the same record
 * with the TLS engine's changes appended, and attaches
 *   1 fd:  the connection, on the worker's fds 0 and 1 (plain);
 *   2 fds: the plaintext from and to the engine, on fds 0 and 1 (implicit
 *          TLS, tern-tlsd -i);
 *   4 fds: the connection on fds 0 and 1, then UCSPI-TLS's control, read
 *          and write fds, whose numbers the worker sets in SSLCTLFD,
 *          SSLREADFD and SSLWRITEFD (STARTTLS).
 *   worker -> launcher: "I": the session is over, the connection closed,
 *                       ready for the next
 *
 * End of file on the socket tells the worker to exit; the launcher closes
 * its end after the worker's last session (-w) or to shrink the pool.
 * One parser, pool_conn_parse, refuses anything not so shaped.
 *
 * SECURITY: the worker trusts the launcher (its parent, same user) as a
 * classic program trusts its exec environment; it still checks the shape
 * of every record, and a record with a wrong shape ends the worker. */
#ifndef TERN_POOL_H
#define TERN_POOL_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define POOL_ENV_MAX 65536            /* bytes of environment changes per connection */
#define POOL_TLS_MAX 8192             /* bytes a pooled tern-tlsd adds (its info block is at most 4096) */
#define POOL_REC_MAX (1 + POOL_ENV_MAX + POOL_TLS_MAX)
#define POOL_ENV_VARS 1024            /* changes per connection */
#define POOL_TLS_VARS 16              /* changes a pooled tern-tlsd adds */

/* 1 when s[0..n) is a connection record ("C" and well-formed changes:
 * each NUL-terminated, a name that is not empty and does not start with
 * '='; at most POOL_ENV_VARS + POOL_TLS_VARS of them); 0 otherwise.
 * *vars gets the number of changes. */
extern int pool_conn_parse(char const *s, size_t n, size_t *vars);

typedef struct poolworker_s poolworker;
struct poolworker_s
{
  int ctl;                 /* the socket to the launcher; -1 classic mode */
  unsigned long sessions;  /* served so far */
  char const **base;       /* the startup environment, without TERN_POOL */
  size_t basen;
  char const **envv;       /* the current session's environment (environ) */
  stralloc rec;            /* the current session's record (envv points in it) */
};
#define POOLWORKER_ZERO { .ctl = -1, .sessions = 0, .base = 0, .basen = 0, .envv = 0, .rec = STRALLOC_ZERO }

/* Looks for pool mode (TERN_POOL set). 1 pool mode (the control socket
 * moved off fd 0), 0 classic mode (fds 0 and 1 are the one connection),
 * -1 error (errno). */
extern int poolworker_init(poolworker *w);

/* Pool mode: ends the previous session (fds 0 and 1 closed and pointed at
 * /dev/null, "I" sent), then waits for the next connection, which becomes
 * fds 0 and 1 (1, 2 or 4 fds attached, as above), with environ the startup
 * environment plus its changes. The UCSPI-TLS fds of a 4-fd record are the
 * session's to close (tern-smtpd: smtp_auth_end).
 * 1 a connection, 0 the launcher said stop (end of file), -1 error
 * (errno; EPROTO for a malformed record). */
extern int poolworker_next(poolworker *w);

/* Sets name=value in this session's environment. Pool mode: a change
 * added to the session's record and environ rebuilt from it (the memory is
 * reused by the next session); classic mode: setenv. name and value must
 * not point into the environment (the record may move). 0 ok, -1 error. */
extern int poolworker_setenv(poolworker *w, char const *name, char const *value);

#endif
