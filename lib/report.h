/* report.h: the records a delivery program (tern-local, tern-remote) writes
 * to tern-send, one per recipient: a status byte, a line of text, a NUL.
 * See docs/INTERNALS.md. */
#ifndef TERN_REPORT_H
#define TERN_REPORT_H

#include <stddef.h>
#include <skalibs/buffer.h>

#define REPORT_OK   'K'   /* delivered */
#define REPORT_TEMP 'Z'   /* temporary failure: retry */
#define REPORT_PERM 'D'   /* permanent failure: bounce */
#define REPORT_TEXT_MAX 1000

/* Writes one record to b (not flushed). Bytes of text that could break the
 * framing or a log line (NUL, CR, LF, other controls) become '?'; text longer
 * than REPORT_TEXT_MAX is cut. 1 ok, 0 write error. */
extern int report_put(buffer *b, char status, char const *text);

typedef struct report_s report;
struct report_s
{
  char status;
  char const *text;   /* points into the parsed buffer */
};

/* Parses the records in s[0..n): fills r[0..max), returns how many were
 * complete and valid. A record with an unknown status or an overlong text, or
 * trailing bytes that do not make a whole record, stops the parse: *bad is set
 * to 1 and what follows is not used. */
extern size_t report_parse(report *r, size_t max, char const *s, size_t n, int *bad);

#endif
