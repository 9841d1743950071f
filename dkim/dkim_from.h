/* dkim_from.h: the author's domain, from the value of a From field
 * (RFC 5322 mailbox-list): the domain tern-dkimsign signs for. */
#ifndef TERN_DKIM_FROM_H
#define TERN_DKIM_FROM_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* The domain of the first mailbox in v[0..n): the text up to the first ','
 * outside quotes, comments and <>; within it the address between the first
 * '<' and '>', or, without one, the whole text; comments dropped; the
 * domain is what follows the last '@' outside quotes, trailing dot
 * removed, lowercased. It must be a host name (dkim_name_ok): an address
 * literal or anything else gives 0. 1 found (dom NUL-terminated), 0 none. */
extern int dkim_from_domain(stralloc *dom, char const *v, size_t n);

#endif
