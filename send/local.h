/* local.h: tern-local's work for one recipient: alias expansion, loop
 * check, Maildir delivery, forwarding (docs/delivery.md). */
#ifndef TERN_LOCAL_H
#define TERN_LOCAL_H

#include <stdint.h>
#include <skalibs/stralloc.h>
#include "msghdr.h"

typedef struct localmsg_s localmsg;
struct localmsg_s
{
  int fd;                 /* the queue file */
  uint64_t msglen;
  char const *sender;
  msghdr header;          /* its header section, read by local_read_header */
  stralloc locals;        /* users_locals_load() */
  char const *queueprog;  /* forwarding goes through it (qinject_prog()) */
};

/* Reads the header section of m->fd into m->header (lib/msghdr.h, as
 * tern-smtpd reads it at the end of DATA). 1 ok, -1 error. */
extern int local_read_header(localmsg *m);

/* Delivers the message to rcpt. Returns 'K', 'Z' or 'D' (lib/report.h) with a
 * line of text for tern-send in text (NUL-terminated). */
extern char local_deliver(localmsg *m, char const *rcpt, stralloc *text);

#endif
