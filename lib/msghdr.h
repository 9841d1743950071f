/* msghdr.h: the header section of a message, read one way by every program
 * that looks at it: tern-smtpd's loop checks at the end of DATA, tern-local's
 * loop check, the part of the original a bounce quotes, tern-inject's scan.
 *
 * The text is LF-ended lines without CR or NUL (what tern-smtpd queues, and
 * lib/dataenc.h's LF form of anything else). The header section runs from
 * the first line up to the first line that is neither a field nor the
 * continuation of one: the empty line, or any other line (a body that
 * starts without the empty line ends it just the same). A field is
 * `name:` with the name one or more printable ASCII characters other than
 * ':', blanks allowed before the colon (RFC 5322's obsolete syntax); a
 * continuation starts with a blank and follows a field.
 *
 * The scanner is fed the text in pieces and keeps what the loop checks
 * need: the count of Received fields and the Delivered-To addresses. */
#ifndef TERN_MSGHDR_H
#define TERN_MSGHDR_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Start of a line kept to read it: a Delivered-To line longer than this
 * cannot hold an address we deliver to (ENVELOPE_ADDR_MAX). */
#define MSGHDR_LINE 2048
/* Bytes of Delivered-To addresses kept; later ones are not looked at. */
#define MSGHDR_DT_MAX 65536

/* Is line[0..n) (no LF) a field? Returns the length of its name, with
 * *value the offset just after the colon; 0 when it is not a field. */
extern size_t msghdr_field(char const *line, size_t n, size_t *value);

typedef struct msghdr_s msghdr;
struct msghdr_s
{
  int over;                /* the header section has ended */
  int fields;              /* a field was seen: a blank line start continues it */
  unsigned int received;   /* Received fields */
  stralloc dt;             /* Delivered-To addresses, lowercased, each NUL-terminated */
  size_t len;              /* bytes of the current line so far */
  char line[MSGHDR_LINE];  /* its start */
};
#define MSGHDR_ZERO { .over = 0, .fields = 0, .received = 0, .dt = STRALLOC_ZERO, .len = 0 }

/* Starts a scan (what h held before is forgotten, not freed). */
extern void msghdr_init(msghdr *h);
extern void msghdr_free(msghdr *h);

/* Feeds s[0..n). Once the section is over the rest is ignored (h->over:
 * callers may stop feeding). 1 ok, 0 out of memory. */
extern int msghdr_put(msghdr *h, char const *s, size_t n);

/* The text ended: a last line without its LF counts as a line. */
extern int msghdr_end(msghdr *h);

/* Does the header section hold `Delivered-To: addr` (blanks around the
 * address ignored, any case)? addr as users_canon() gives it. tern-local
 * fails a recipient for which this holds (a mail loop); tern-smtpd refuses
 * the message at the end of DATA for the same reason. */
extern int msghdr_delivered_to(msghdr const *h, char const *addr);

#endif
