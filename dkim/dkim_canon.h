/* dkim_canon.h: DKIM's "relaxed" canonicalisation of header fields and of
 * the body (RFC 6376 sections 3.4.2 and 3.4.4), the body hashed as it goes.
 *
 * Line ends: the queue holds LF, and tern-remote sends every LF, every CRLF
 * and every lone CR as one CRLF (remote/remote_data.h). We canonicalise
 * the message as it will be on the wire, so all three count as one line
 * end here too: a signature must not depend on which one a program used. */
#ifndef TERN_DKIM_CANON_H
#define TERN_DKIM_CANON_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>
#include <skalibs/stralloc.h>

/* Appends the relaxed form of one header field to out, without a line end:
 * the name lowercased, blanks before the colon removed, the value unfolded
 * (line ends removed), each run of blanks (SP, HTAB) made one SP, none at
 * its start or end. field[0..n) is the field as it appears, continuation
 * lines included, without its final line end. 1 ok, 0 out of memory. */
extern int dkim_canon_header(stralloc *out, char const *field, size_t n);

/* The body, fed in pieces of any size. Runs of blanks within a line become
 * one SP, blanks at the end of a line go, empty lines at the end of the body
 * go, and a body that is not empty ends with CRLF. The canonical bytes go
 * into a SHA-256 (and, when copy is set, are appended to it: for tests). */
typedef struct dkim_body_s dkim_body;
struct dkim_body_s
{
  br_sha256_context sha;
  stralloc *copy;       /* tests: the canonical text itself */
  uint64_t blanks;      /* empty lines not yet written (maybe at the end) */
  int started;          /* the current line has content */
  int wsp;              /* blanks seen since the last content byte */
  int cr;               /* the last byte was a CR (its line end is done) */
  int nomem;            /* copy could not grow */
  size_t n;             /* bytes in out */
  char out[4096];
};

extern void dkim_body_init(dkim_body *b, stralloc *copy);
extern void dkim_body_put(dkim_body *b, char const *s, size_t n);
/* Ends the body; hash gets its SHA-256. 1 ok, 0 when copy ran out of memory. */
extern int dkim_body_end(dkim_body *b, unsigned char *hash);

#endif
