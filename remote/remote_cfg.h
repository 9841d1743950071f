/* remote_cfg.h: tern-remote's settings for one delivery, from control/ and
 * the environment, in one place (name, default, bounds):
 *
 *   control/helohost, else control/me   the name in EHLO/HELO (required)
 *   control/timeoutconnect  60 s        to connect (0 means 1)
 *   control/timeoutremote   1200 s      for each read or write
 *   control/smtproutes                  domain:relay[:port] routes (remote_route.h)
 *   control/tlsroutes       may         domain:none|may|encrypt|verify
 *   control/tlsca           /etc/ssl/certs/ca-certificates.crt   anchors for verify and MTA-STS
 *   control/mtaststimeout   60 s        each step of an MTA-STS fetch (remote_sts.h)
 *   control/mtastsmaxbytes  65536       the largest MTA-STS policy
 *   control/tlsciphersremote  ECDHE+AEAD  cipher suites offered (lib/tls.h)
 *   control/smtpauth                    relay:user:password, mode 600 or stricter
 *   control/ipme                        our addresses (default: local interfaces)
 *   TERN_SMTP_PORT          25          the port on MX hosts and relays without one
 *   TERN_MTASTS_PORT        443         test knob: the port of MTA-STS policy servers
 */
#ifndef TERN_REMOTE_CFG_H
#define TERN_REMOTE_CFG_H

#include <stdint.h>
#include <skalibs/stralloc.h>
#include "remote_route.h"
#include "remote_tls.h"
#include "remote_mx.h"

#define TLSCA_DEFAULT "/etc/ssl/certs/ca-certificates.crt"

typedef struct rcfg_s rcfg;
struct rcfg_s
{
  stralloc helo;
  unsigned int timeoutconnect, timeoutremote;
  uint16_t port;
  int routed;          /* smtproutes names a relay */
  relay relay;
  int tlspolicy;
  int tlsset;          /* control/tlsroutes has a line for the domain or a suffix of it, not just
                          the catch-all (MTA-STS then stays out) */
  anchors anchors;     /* loaded for TLS_VERIFY only */
  tls_suites suites;   /* control/tlsciphersremote */
  stralloc user, pass; /* AUTH for the relay; user.len 0: none */
  selfset self;
  stralloc me;
};

/* Reads everything for a delivery to domain. 1 ok, 0 failed: why says
 * what (the delivery is then deferred, as the admin can fix it). */
extern int rcfg_load(rcfg *c, char const *domain, stralloc *why);
/* Loads the trust anchors of control/tlsca (default the system bundle)
 * unless they are loaded: verify, and MTA-STS (remote_sts.h). 1 ok, 0 none (why). */
extern int rcfg_anchors(rcfg *c, stralloc *why);
/* Frees what rcfg_load allocated (wiping the AUTH password). */
extern void rcfg_free(rcfg *c);

#endif
