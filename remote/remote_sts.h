/* remote_sts.h: MTA-STS (RFC 8461) for tern-remote: which policy applies to
 * a delivery, and what it does to the MX hosts and the TLS policy.
 *
 * Order of precedence (the admin's word first): a smtproutes relay, then an
 * explicit control/tlsroutes entry for the domain; only without either is
 * the domain's MTA-STS policy looked for. Then:
 *   - the TXT record _mta-sts.DOMAIN names the policy's id;
 *   - a cached policy (HOME/mtasts/DOMAIN) still within its max_age and with
 *     that id is used as is; otherwise the policy is fetched from
 *     https://mta-sts.DOMAIN/.well-known/mta-sts.txt (verified against
 *     control/tlsca, default the system bundle) and the cache replaced
 *     (written to a temporary name, synced, renamed);
 *   - a fetch that fails, a TXT lookup that fails or a TXT record that went
 *     away keep using the cached policy until its max_age runs out; without
 *     one the domain is treated as having no policy (RFC 8461 5).
 * mode enforce: only MX hosts matching the policy, and TLS verified against
 * the MX name (tlsroutes' verify); none left: the delivery is deferred.
 * mode testing: delivery as without a policy; what enforce would have
 * refused is logged (MX names, plaintext, certificates checked as verify
 * would but without consequence). mode none: nothing.
 *
 * Knobs: control/mtaststimeout (60 s, each step of the fetch),
 * control/mtastsmaxbytes (65536, the policy's size), TERN_MTASTS_PORT (443:
 * a test knob, the HTTPS port; ignored when set-id, as all the environment).
 *
 * SECURITY: the TXT record, the HTTPS server's answer and the cache file
 * are untrusted input, parsed by lib/mtasts.c with bounds; a domain name
 * becomes a cache file name only when made of [a-z0-9._-] without "..";
 * the cache directory belongs to the remote-delivery user (mode 700). */
#ifndef TERN_REMOTE_STS_H
#define TERN_REMOTE_STS_H

#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include "mtasts.h"
#include "remote_cfg.h"

#define STS_PORT_DEFAULT 443
#define STS_TIMEOUT_DEFAULT 60

typedef struct sts_s sts;
struct sts_s
{
  int mode;              /* enum mtasts_mode of the policy applied; MTASTS_NONE: none */
  mtasts_policy pol;
  stralloc note;         /* for the log: which policy applies and why */
  int found;             /* an MTA-STS policy applies (any mode): TLS reports say "sts" */
  char const *fetchfail; /* no policy because its fetch failed: the RFC 8460 result type, else 0 */
};
#define STS_ZERO { .mode = MTASTS_NONE, .note = STRALLOC_ZERO }

/* Decides the policy for a delivery to domain under cfg, and with enforce
 * sets cfg->tlspolicy to TLS_VERIFY (loading the anchors). Never fails the
 * delivery by itself: trouble ends in "no policy" or the cached one, and in
 * the note. */
extern void sts_for(sts *s, rcfg *cfg, char const *domain);

/* Applies the policy to the targets: enforce keeps the matching MX hosts
 * (1, or 0 with why set when none is left); testing logs those enforce
 * would skip (1). */
extern int sts_filter(sts const *s, genalloc *targets, char const *domain, stralloc *why);

/* After a delivery in testing mode over a session without TLS, or whose
 * certificate would not verify (tlscheck: why): logs that enforce would
 * have refused it. */
extern void sts_after(sts const *s, char const *domain, char const *host, int tls, char const *tlscheck);

/* Under enforce, prefixes why with the policy's name (deferral texts). */
extern void sts_explain(sts const *s, stralloc *why);

extern void sts_free(sts *s);

/* The fetch (remote_stsfetch.c): the policy of domain over HTTPS, its
 * body into body. 1 ok, 0 failed (why). */
extern int sts_fetch(char const *domain, anchors const *a, unsigned int ctimeout, unsigned int timeout,
                     size_t maxbytes, stralloc *body, stralloc *why);

#endif
