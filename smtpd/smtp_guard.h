/* smtp_guard.h: the checks tern-smtpd makes around DATA so that what it
 * accepts cannot turn into trouble later (docs/security.md):
 * improper pipelining, the mark of SMTP smuggling, refused before the 354
 * and before the reply to the final dot; and the loop checks tern-local
 * would make after acceptance, made before the 250 instead. */
#ifndef TERN_SMTP_GUARD_H
#define TERN_SMTP_GUARD_H

#include <skalibs/stralloc.h>
#include "msghdr.h"
#include "smtp_conn.h"
#include "smtp_io.h"

/* Did a client that is neither authenticated nor a RELAYCLIENT send input
 * it had to wait for a reply before sending? when names the point ("DATA",
 * "end of data"). If so: logs what it sent, drops it and returns the
 * 554 5.5.0 reply to give, after which the session must end; else 0. */
extern char const *smtp_guard_pipelining(smtp_io *io, smtp_conn const *cn, char const *when);

/* The loop check of tern-local (lib/msghdr.h) for every local recipient
 * of the transaction's envelope (the local domains are r's): 0 when none
 * loops, else the reply to give ("554 5.4.6 ..."), built in sa. */
extern char const *smtp_guard_loop(relay const *r, stralloc const *envelope, msghdr const *h, stralloc *sa);

#endif
