/* dkim_sig.h: writing a DKIM-Signature field (RFC 6376 section 3.5).
 *
 *   DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;
 *   	s=s2026; t=1767225600; h=from:from:reply-to:subject:...;
 *   	bh=...;
 *   	b=...
 *
 * Folded with LF and a TAB (the queue's line ends), lines under 78 columns
 * where the values allow. No l= (a length limit lets anyone append to the
 * body), no i= (it defaults to @d), no x=. */
#ifndef TERN_DKIM_SIG_H
#define TERN_DKIM_SIG_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

typedef struct dkim_sig_s dkim_sig;
struct dkim_sig_s
{
  stralloc text;   /* the field so far */
  size_t col;      /* the column where the next byte goes */
};
#define DKIM_SIG_ZERO { .text = STRALLOC_ZERO, .col = 0 }

/* Starts the field and writes every tag up to an empty "b=": the text that
 * goes into the header hash as it is. bh: the 32-byte body hash. 1 ok, 0
 * out of memory. */
extern int dkim_sig_start(dkim_sig *g, char const *alg, char const *d, char const *s,
  uint64_t t, char const *hlist, unsigned char const *bh);

/* Appends the signature, base64, folded, and the final LF. */
extern int dkim_sig_finish(dkim_sig *g, unsigned char const *sig, size_t n);

extern void dkim_sig_free(dkim_sig *g);

#endif
