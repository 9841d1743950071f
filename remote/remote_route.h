/* remote_route.h: the values of tern-remote's qmail-style route tables
 * (control/smtproutes, tlsroutes, smtpauth); the lookups by domain are
 * lib/route.h, shared with tern-send, which groups deliveries by route. */
#ifndef TERN_REMOTE_ROUTE_H
#define TERN_REMOTE_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/ip46.h>
#include "route.h"

typedef struct relay_s relay;
struct relay_s
{
  char host[256];    /* a name, or the literal's text without brackets */
  int literal;       /* host is an IP address (ip below is valid) */
  ip46 ip;
  uint16_t port;     /* 0: not given */
};

/* Parses a smtproutes value: "" (use MX), "host", "host:port", "[ip]",
 * "[ip]:port", a bare IPv4 address. 1 ok (r->host empty means: use MX),
 * 0 syntax error. */
extern int route_relay(char const *value, relay *r);

/* TLS policies of control/tlsroutes, weakest first. */
enum tlspolicy { TLS_NONE, TLS_MAY, TLS_ENCRYPT, TLS_VERIFY };

/* Parses a tlsroutes value (none, may, encrypt, verify). 1 ok, 0 unknown. */
extern int route_tlspolicy(char const *value, int *policy);

/* Splits a smtpauth value "user:password" (the password may hold ':').
 * 1 ok, 0 malformed (no ':', empty user). */
extern int route_auth(char const *value, stralloc *user, stralloc *pass);

#endif
