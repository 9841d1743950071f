/* rules_lookup.h: which compiled rule applies to a client, in tcpserver's order. */
#ifndef TERN_RULES_LOOKUP_H
#define TERN_RULES_LOOKUP_H

#include <stddef.h>
#include <skalibs/cdb.h>
#include <skalibs/ip46.h>
#include <s6/accessrules.h>
#include "rules_parse.h"

/* Returns the client's host name (lowercase, no trailing dot) or 0 when
 * it has none; called at most once, and only when the cdb has host rules. */
typedef char const *rules_gethost_func(void *ctx);

/* Looks ip up in c in tcpserver's order: the exact address, then the exact
 * host name, then ever shorter prefixes (longest CIDR first), then host
 * suffixes from the longest, then "=" (any named host), then the default.
 * Returns S6_ACCESSRULES_ALLOW (params->env has "VAR=value\0" / "VAR\0"),
 * _DENY, _NOTFOUND (no rule and no default) or _ERROR (corrupt cdb; errno).
 * key (RULES_KEY_MAX bytes) gets the matched key, NUL-terminated, "" when
 * none. gethost may be 0 (host rules are then skipped). */
extern s6_accessrules_result_t rules_lookup(cdb const *c, ip46 const *ip, rules_gethost_func *gethost, void *ctx, s6_accessrules_params_t *params, char *key);

/* 1 when the cdb holds host rules, 0 when not, -1 when it is corrupt. */
extern int rules_has_hostrules(cdb const *c);

#endif
