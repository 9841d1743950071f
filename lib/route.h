/* route.h: the lookups of qmail-style route tables: control/smtproutes,
 * tlsroutes and smtpauth are lines `key:value`, read with
 * control_readlines (NUL-separated in one stralloc). For routes the key is
 * matched as qmail-remote does: the domain itself, then each `.suffix` of
 * it (".example.com" covers every name below example.com, not example.com
 * itself), then the empty key (a default: `:smarthost`). The first line
 * with a matching key wins. Keys are compared without regard to ASCII case. */
#ifndef TERN_ROUTE_H
#define TERN_ROUTE_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* The value of the line whose key is exactly key (any case), or 0. */
extern char const *route_get(stralloc const *lines, char const *key, size_t keylen);

/* The value for domain under the suffix rules above, or 0. */
extern char const *route_find(stralloc const *lines, char const *domain);

#endif
