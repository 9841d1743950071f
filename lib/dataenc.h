/* dataenc.h: message text on its way out of tern, safe whatever the queue
 * holds.
 *
 * tern-smtpd queues LF line ends and no NUL or CR, but a queue file written
 * by an older version, by a content filter or by tern-inject, or a Maildir
 * file another program wrote, may hold anything. Every output reads the
 * bytes one way (docs/security.md): LF, CR LF and a lone CR each end
 * exactly one line, and NUL bytes are dropped. A receiver that drops NULs,
 * or ends lines at a bare CR or a bare LF, then sees the lines we see, so a
 * line it would take for "." is one we have stuffed. Two forms:
 *
 *   SMTP (DATAENC_ZERO)  CR LF line ends, a leading "." doubled, "." CR LF
 *                        at the end: tern-remote's DATA, POP3 RETR and TOP.
 *   LF (dataenc_init_lf) LF line ends, nothing else: Maildir files.
 *
 * Each input byte gives at most two output bytes. Pure: the unit tests and
 * the fuzz targets feed it bytes. */
#ifndef TERN_DATAENC_H
#define TERN_DATAENC_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

typedef struct dataenc_s dataenc;
struct dataenc_s
{
  unsigned char lf;      /* the LF form */
  unsigned char bol;     /* at the start of a line */
  unsigned char cr;      /* the last byte was a CR: its line end is already out */
  unsigned char blank;   /* the current line is empty so far */
  unsigned char body;    /* past the empty line that ends the header */
  unsigned char done;    /* maxbody body lines given: the rest is ignored */
  uint64_t maxbody;      /* body lines to give (POP3 TOP); UINT64_MAX: all */
  uint64_t bodylines;    /* body lines begun */
  uint64_t stuffed;      /* dots added by stuffing (POP3 sizes leave them out) */
};
#define DATAENC_ZERO { .lf = 0, .bol = 1, .cr = 0, .blank = 0, .body = 0, .done = 0, \
                       .maxbody = UINT64_MAX, .bodylines = 0, .stuffed = 0 }

/* The SMTP form, giving at most maxbody body lines (UINT64_MAX: all). */
extern void dataenc_init(dataenc *e, uint64_t maxbody);

/* The LF form (Maildir). */
extern void dataenc_init_lf(dataenc *e);

/* Appends the encoding of s[0..n) to out. 1 ok, 0 out of memory. */
extern int dataenc_put(dataenc *e, char const *s, size_t n, stralloc *out);

/* Appends what ends the text: a line end when the last line was
 * unfinished, then, in the SMTP form, ".\r\n". 1 ok, 0 out of memory. */
extern int dataenc_end(dataenc *e, stralloc *out);

#endif
