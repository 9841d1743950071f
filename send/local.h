/* local.h: tern-local's work for one recipient: alias expansion, loop
 * check, Maildir delivery, forwarding (docs/delivery.md). */
#ifndef TERN_LOCAL_H
#define TERN_LOCAL_H

#include <stdint.h>
#include <skalibs/stralloc.h>

#define LOCAL_HEADER_MAX 65536  /* bytes of header scanned for Delivered-To */

typedef struct localmsg_s localmsg;
struct localmsg_s
{
  int fd;                 /* the queue file */
  uint64_t msglen;
  char const *sender;
  stralloc header;        /* the message's header block (at most LOCAL_HEADER_MAX) */
  stralloc locals;        /* users_locals_load() */
  char const *queueprog;  /* forwarding goes through it (qinject_prog()) */
};

/* Reads the header block of m->fd into m->header. 1 ok, -1 error. */
extern int local_read_header(localmsg *m);

/* Does the header hold "Delivered-To: addr" (case-insensitive)? */
extern int local_has_delivered_to(stralloc const *header, char const *addr);

/* Delivers the message to rcpt. Returns 'K', 'Z' or 'D' (lib/report.h) with a
 * line of text for tern-send in text (NUL-terminated). */
extern char local_deliver(localmsg *m, char const *rcpt, stralloc *text);

#endif
