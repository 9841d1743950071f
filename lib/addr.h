/* addr.h: parsing RFC 5321 paths (<...> in MAIL FROM and RCPT TO) into one
 * canonical address, the form every later decision (relaying, delivery) uses.
 *
 * Canonical form: local@domain with the domain lowercased, a single trailing
 * dot removed, an address literal rewritten as [a.b.c.d] or [ipv6:x::y]; a
 * source route (@a,@b:) dropped; a quoted local part kept quoted only when it
 * needs quotes. docs/smtpd.md says how each form is treated in the relay
 * decision. */
#ifndef TERN_ADDR_H
#define TERN_ADDR_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Longest canonical address we accept (RFC 5321 allows a 256-byte path; we
 * allow more for SRS/VERP senders but stay well under ENVELOPE_ADDR_MAX). */
#define ADDR_MAX 512
#define ADDR_DOMAIN_MAX 255
#define ADDR_LABEL_MAX 63

/* flags */
#define ADDR_NULL 1       /* <> */
#define ADDR_ROUTE 2      /* a source route was stripped */
#define ADDR_QUOTED 4     /* the local part was a quoted string */
#define ADDR_ROUTING 8    /* the local part contains % ! or @ (routing tricks) */
#define ADDR_LITERAL 16   /* the domain is an address literal */
#define ADDR_NODOMAIN 32  /* no @domain at all (only <postmaster> is usable) */

typedef struct addr_s addr;
struct addr_s
{
  stralloc s;       /* canonical address, NUL-terminated (len excludes the NUL) */
  size_t at;        /* index of the '@' before the domain in s, or s.len */
  unsigned int flags;
};
#define ADDR_ZERO { .s = STRALLOC_ZERO, .at = 0, .flags = 0 }

/* results */
#define ADDR_OK 0
#define ADDR_ESYNTAX 1    /* not a path */
#define ADDR_ELONG 2      /* too long */
#define ADDR_EDOMAIN 3    /* the domain is not a valid host name or literal */
#define ADDR_ENOMEM 4

/* Parses the path at s (n bytes, starting with '<'). On ADDR_OK *used is
 * the number of bytes up to and including the closing '>'. */
extern int addr_parse_path(addr *a, char const *s, size_t n, size_t *used);

/* Canonicalises a domain or address literal (as in an address or a line of
 * rcpthosts): appends it to sa (no NUL). Returns ADDR_OK, ADDR_EDOMAIN,
 * ADDR_ELONG or ADDR_ENOMEM. */
extern int addr_domain(stralloc *sa, char const *s, size_t n, int *literal);

/* The domain part of a parsed address ("" when it has none). */
#define addr_domainpart(a) ((a)->s.s + ((a)->at < (a)->s.len ? (a)->at + 1 : (a)->s.len))

/* A sentence for a result code. */
extern char const *addr_strerror(int r);

extern void addr_free(addr *a);

#endif
