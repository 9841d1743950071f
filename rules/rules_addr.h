/* rules_addr.h: client addresses and host names as the rules see them. */
#ifndef TERN_RULES_ADDR_H
#define TERN_RULES_ADDR_H

#include <skalibs/ip46.h>

/* Scans a whole IPv4 or IPv6 address; an IPv4-mapped IPv6 address
 * (::ffff:1.2.3.4) becomes IPv4, as tern-tcpserver sees such clients.
 * 1 ok, 0 not an address. */
extern int rules_addr_scan(char const *s, ip46 *ip);

/* Turns an IPv4-mapped IPv6 address into IPv4 in place. */
extern void rules_addr_unmap(ip46 *ip);

/* Copies name lowercased without a trailing dot into out (RULES_HOST_MAX+2
 * bytes). 1 ok, 0 empty, too long or holding bytes no host name has. */
extern int rules_host_normalize(char *out, char const *name);

#endif
