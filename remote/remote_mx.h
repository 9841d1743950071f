/* remote_mx.h: where tern-remote connects: the MX hosts of a domain, or a
 * smtproutes relay, turned into an ordered list of addresses.
 *
 * MX records are tried by preference, equal preferences in random order
 * (RFC 5321 5.1); without MX the domain's own address records are used; a
 * null MX (RFC 7505: one MX ".") is a permanent failure. MX hosts that are
 * ourselves (named like control/me, or with an address of ours: control/ipme
 * or, without it, the local interfaces) are dropped together with every MX of
 * the same or a worse preference, as qmail does: a backup MX only hands mail
 * to better ones. If that leaves nothing, the mail would loop: permanent.
 * For each host the IPv4 addresses come before the IPv6 ones. */
#ifndef TERN_REMOTE_MX_H
#define TERN_REMOTE_MX_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/ip46.h>
#include "dns.h"
#include "remote_route.h"

#define MX_HOSTS_MAX 16      /* MX hosts looked at */
#define TARGETS_MAX 32       /* addresses tried per delivery */
#define MX_DNS_SECONDS 60    /* the deadline for all the lookups of one delivery */

typedef struct target_s target;
struct target_s
{
  char name[256];   /* the host name (or the literal) for texts, SNI, smtpauth */
  ip46 ip;
  uint16_t port;
};

/* Who we are, to avoid sending mail to ourselves. */
typedef struct selfset_s selfset;
struct selfset_s
{
  char const *me;    /* control/me, or 0 */
  genalloc ips;      /* ip46 */
};
#define SELFSET_ZERO { .me = 0, .ips = GENALLOC_ZERO }

/* Fills ips from control/ipme (one address a line) when it exists, else
 * from the local interfaces. 1 ok, 0 error (errno). */
extern int selfset_load(selfset *s);
extern int selfset_has(selfset const *s, ip46 const *ip);

/* One MX host while the list is being ordered. */
typedef struct mxhost_s mxhost;
struct mxhost_s
{
  char const *name;
  uint16_t pref;
  int self;
  unsigned int id;   /* the caller's index (its address lookups) */
};

/* Shuffles runs of equal preference in h (sorted by preference). */
extern void mx_shuffle(mxhost *h, size_t n);
/* Drops the hosts that are us and those not better than us. Returns how
 * many remain at the front of h; *loop is set when hosts were dropped that
 * way and none remains. */
extern size_t mx_cut_self(mxhost *h, size_t n, int *loop);

/* Targets for domain through DNS (or for an address literal "[1.2.3.4]").
 * 1 ok (targets appended), 0 permanent failure, -1 temporary; why explains. */
extern int mx_targets(dns *d, char const *domain, uint16_t port, selfset const *self,
                      genalloc *targets, stralloc *why);

/* Targets for a smtproutes relay: a literal as is, a name through DNS. */
extern int mx_relay_targets(dns *d, relay const *r, uint16_t port, genalloc *targets, stralloc *why);

#endif
