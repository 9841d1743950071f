/* remote_deliver.h: one message to the recipients of one domain, over a
 * connection kept for the next message to the same destination.
 *
 * The destination of a delivery is its connection identity: the
 * smtproutes relay (host and port) when the domain has one, else the
 * domain itself, with the TLS policy and the AUTH user. A message for the
 * same identity as the open connection goes over it (RSET first); any
 * other closes it (QUIT) and connects anew. A connection that breaks
 * before a message's MAIL is replaced for that message; one that breaks
 * during it gives that message's recipients their statuses (Z, or what the
 * replies said) and the next message a new connection. */
#ifndef TERN_REMOTE_DELIVER_H
#define TERN_REMOTE_DELIVER_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "remote_cfg.h"
#include "remote_conn.h"
#include "remote_smtp.h"
#include "remote_sts.h"

typedef struct rdel_s rdel;
struct rdel_s
{
  rcfg cfg;
  stralloc cfgdomain;   /* the domain cfg was loaded for; empty: none */
  conn c;               /* c.fd >= 0: a session is open */
  sess s;
  stralloc host;        /* of the open connection, for the texts */
  stralloc ident;       /* its identity (above) */
  stralloc why;
  genalloc targets;     /* of target */
  sts sts;              /* the MTA-STS decision for cfgdomain (remote_sts.h) */
  int tlsused;          /* the last session opened went into TLS */
  char const *tlscheck; /* and why its certificate would not verify (observe), or 0 */
  unsigned long messages;  /* sent over this process's connections */
  unsigned long connects;
};
#define RDEL_ZERO { .cfgdomain = STRALLOC_ZERO, .c = { .fd = -1, .out = STRALLOC_ZERO }, \
  .host = STRALLOC_ZERO, .ident = STRALLOC_ZERO, .why = STRALLOC_ZERO, .targets = GENALLOC_ZERO }

/* Delivers the message in fd (its first msglen bytes) from sender to
 * rcpts[0..n) (all of domain, lowercase without a final dot), one
 * record each on fd 1 in order (lib/report.h), flushed. Addresses SMTP
 * cannot carry get D without a connection. 1 ok, 0 the records could not
 * be written. mparams and rparams (per rcpt, may be 0) are the DSN
 * parameters, passed on to a next hop that speaks DSN. */
extern int rdel_message(rdel *d, char const *domain, char const *sender, char const *const *rcpts, size_t n,
                        int fd, uint64_t msglen, char const *mparams, char const *const *rparams);

/* QUIT on the open connection, if any; frees everything. */
extern void rdel_end(rdel *d);

/* d, lowercase and without a final dot, into sa (NUL-terminated). 1 ok. */
extern int rdel_domain_norm(stralloc *sa, char const *d);

#endif
