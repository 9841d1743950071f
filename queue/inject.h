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

/* Where bare names go (qmail-inject's control files; docs/tern-inject.8):
 * host: control/defaulthost, else control/defaultdomain, else control/me,
 * itself qualified as below; domain: control/defaultdomain, else me;
 * plus: control/plusdomain, else me. Each NUL-terminated, or empty. */
typedef struct injhost_s injhost;
struct injhost_s
{
  stralloc host;
  stralloc domain;
  stralloc plus;
};
#define INJHOST_ZERO { .host = STRALLOC_ZERO, .domain = STRALLOC_ZERO, .plus = STRALLOC_ZERO }

/* Reads the control files. 1 ok; 0 error (*what names the file; errno),
 * or no control/me and nothing else to go by (errno 0). */
extern int inject_host_load(injhost *h, char const **what);

/* out = host with qmail's rewriting: "name+" becomes name.plusdomain, a
 * name without a dot gets .defaultdomain; an address literal is left
 * alone. NUL-terminated. 1 ok, 0 out of memory. */
extern int inject_qualify_host(stralloc *out, char const *host, injhost const *h);

/* out = addr with @host added when it has no domain, and its domain
 * rewritten as inject_qualify_host says. 1 ok, 0 out of memory. */
extern int inject_qualify(stralloc *out, char const *addr, injhost const *h);

#endif
