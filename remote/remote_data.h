/* remote_data.h: the message body as it goes out after DATA.
 *
 * The queue holds LF line ends; SMTP wants CRLF and dot-stuffing. Content is
 * never trusted to be clean (tern-inject, an old queue): every LF, every
 * CRLF and every lone CR becomes exactly one CRLF line end, so no byte
 * sequence in the content can form CRLF "." CRLF and end DATA early. A line
 * that starts with "." gets a second one. The stream always ends with a
 * line end before the final ".". */
#ifndef TERN_REMOTE_DATA_H
#define TERN_REMOTE_DATA_H

#include <stddef.h>
#include <skalibs/stralloc.h>

typedef struct dataenc_s dataenc;
struct dataenc_s
{
  int bol;   /* at the start of a line */
  int cr;    /* the last byte seen was a CR (its line end already sent) */
};
#define DATAENC_ZERO { .bol = 1, .cr = 0 }

/* Appends the encoding of s[0..n) to out. 1 ok, 0 out of memory. */
extern int dataenc_put(dataenc *e, char const *s, size_t n, stralloc *out);

/* Appends what ends the data: a CRLF when the last line was unfinished,
 * then ".\r\n". 1 ok, 0 out of memory. */
extern int dataenc_end(dataenc *e, stralloc *out);

#endif
