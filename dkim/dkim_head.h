/* dkim_head.h: the header section of a message as tern-dkimsign sees it:
 * where it ends, its fields, the author's domain, which fields a signature
 * covers (h=), and the header hash (RFC 6376 sections 3.5, 3.7, 5.4).
 *
 * The section runs from the first line to the first line that is neither a
 * field (a name of printable ASCII other than ':', blanks allowed before
 * the colon) nor the continuation of one (a line starting with a blank,
 * after a field): normally the empty line, which belongs to neither part;
 * any other line is the first line of the body. Line ends are LF, CRLF or
 * a lone CR, as in dkim_canon.h. */
#ifndef TERN_DKIM_HEAD_H
#define TERN_DKIM_HEAD_H

#include <stddef.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

/* Finding the end while the text arrives: keeps where the next line starts. */
typedef struct dkim_hscan_s dkim_hscan;
struct dkim_hscan_s
{
  size_t pos;       /* start of the first line not looked at yet */
  int fields;       /* a field was seen: a blank at a line start continues it */
};
#define DKIM_HSCAN_ZERO { .pos = 0, .fields = 0 }

/* Looks at the complete lines of s[0..n) (with eof, a last line without its
 * line end counts as complete). Returns 1 once the section has ended:
 * *hlen is its length (its last line end included), *body where the body
 * starts. Returns 0 when more text is needed; with eof it never does (the
 * whole text is then the section). s must be the same text each call,
 * longer or as long. */
extern int dkim_head_end(dkim_hscan *st, char const *s, size_t n, int eof, size_t *hlen, size_t *body);

/* One field: s[pos..pos+len) without its final line end; name is
 * s[pos..pos+namelen) without the blanks before the colon. */
typedef struct dkim_field_s dkim_field;
struct dkim_field_s
{
  size_t pos;
  size_t len;
  size_t namelen;
};

/* Splits the section s[0..n) into fields (appended to g, of dkim_field).
 * 1 ok, 0 out of memory. */
extern int dkim_head_fields(genalloc *g, char const *s, size_t n);

/* Is field f named name (ASCII case ignored)? */
extern int dkim_head_is(char const *s, dkim_field const *f, char const *name);

/* The domain of the first address of the first From field, lowercased, in
 * dom (NUL-terminated). 1 found; 0 no From field, or no domain in it. */
extern int dkim_head_from(stralloc *dom, char const *s, dkim_field const *f, size_t nf);

/* The h= list for these fields: every field of the default list that is
 * present, as many times as it is present, bottom-up, plus one more time
 * for the ones we oversign (docs/dkim.md has the list). Names lowercased,
 * joined by ':', NUL-terminated. 1 ok, 0 out of memory. */
extern int dkim_head_hlist(stralloc *h, char const *s, dkim_field const *f, size_t nf);

/* The header hash (RFC 6376 3.7): for each name of hlist (names separated
 * by ':', blanks and line ends around them ignored), the lowest field of
 * that name not taken yet, relaxed and CRLF-ended; then the relaxed
 * DKIM-Signature field sig[0..siglen) (its b= already empty), without a
 * line end. hash gets 32 bytes. 1 ok, 0 out of memory. */
extern int dkim_head_hash(unsigned char *hash, char const *s, dkim_field const *f, size_t nf,
  char const *hlist, char const *sig, size_t siglen);

#endif
