/* inject.h: tern-inject's message preparation: header scan, the headers it
 * adds, address lists of To/Cc/Bcc for -t (docs/tern-inject.8). */
#ifndef TERN_INJECT_H
#define TERN_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

/* Appends the addresses of an RFC 5322 address list (display names,
 * comments, quoted strings, groups, <route:addr>) to out, each
 * NUL-terminated. Returns how many, or -1 out of memory. */
extern int inject_addrlist(stralloc *out, char const *s, size_t n);

typedef struct injmsg_s injmsg;
struct injmsg_s
{
  int has_date, has_msgid, has_from;
  stralloc rcpts;     /* -t: addresses of To, Cc, Bcc, each NUL-terminated */
  stralloc header;    /* the header, Bcc removed */
  size_t body;        /* offset of the body in the input */
};

/* Turns CRLF into LF in sa (a lone CR stays: tern-remote never sends it as
 * a line end) and makes sure it ends with LF. */
extern void inject_lf(stralloc *sa);

/* Splits msg into header and body, notes which headers are present and, with
 * want_rcpts, collects the -t recipients. 1 ok, -1 out of memory. */
extern int inject_scan(injmsg *m, char const *msg, size_t len, int want_rcpts);

/* The headers tern-inject adds when missing: Date, Message-ID, From. */
extern int inject_addheaders(stralloc *out, injmsg const *m, char const *me,
                             char const *from, char const *fullname, uint64_t now);

#endif
