/* smtp_relay.h: which domains are ours (rcpthosts, morercpthosts.cdb) and
 * the per-recipient decision (rcpt_check). */
#ifndef TERN_SMTP_RELAY_H
#define TERN_SMTP_RELAY_H

#include <skalibs/cdb.h>
#include <skalibs/stralloc.h>
#include "addr.h"

typedef struct relay_s relay;
struct relay_s
{
  stralloc hosts;        /* canonical rcpthosts entries, each NUL-terminated */
  int have_rcpthosts;    /* 0: the file is missing, no domain is ours */
  cdb mrh;
  int have_mrh;
  stralloc locals;       /* local domains (lib/users.h): recipients checked against users.cdb */
};
#define RELAY_ZERO { .hosts = STRALLOC_ZERO, .have_rcpthosts = 0, .mrh = CDB_ZERO, .have_mrh = 0, .locals = STRALLOC_ZERO }

/* Reads control/rcpthosts, the local domains (locals, virtualdomains) and
 * opens control/morercpthosts.cdb. Lines that
 * are not valid domains are skipped, each with a warning on stderr.
 * 1 ok, 0 error (errno set). */
extern int relay_load(relay *r);
extern void relay_free(relay *r);

/* 1 when domain (canonical, as addr.h gives it) is ours: listed exactly,
 * or below a listed ".suffix"; 0 not ours; -1 error reading the cdb. */
extern int relay_ours(relay const *r, char const *domain);

/* What the session knows about the client, for the decision. */
typedef struct rcpt_ctx_s rcpt_ctx;
struct rcpt_ctx_s
{
  relay const *relay;
  char const *relayclient;   /* $RELAYCLIENT, or 0 when unset */
  char const *authuser;      /* set by AUTH (tls/auth issue), else 0 */
  char const *me;            /* control/me, for <postmaster> */
};

typedef struct rcpt_verdict_s rcpt_verdict;
struct rcpt_verdict_s
{
  int ok;
  char const *reply;         /* the SMTP reply when refused */
  char const *reason;        /* short words for the log */
};

/* Decides one recipient. On acceptance a->s becomes the address to queue
 * (postmaster completed, $RELAYCLIENT appended). */
extern int rcpt_check(rcpt_ctx const *c, addr *a, rcpt_verdict *v);

#endif
