/* pop3_where.h: which Maildir the mailbox part of tern-pop3d opens. */
#ifndef TERN_POP3_WHERE_H
#define TERN_POP3_WHERE_H

#include <skalibs/stralloc.h>

/* sa = the Maildir, NUL-terminated: arg (relative to $HOME unless absolute),
 * else $MAILDIR, else the users table's Maildir for $USER, else
 * $HOME/Maildir/. 1 ok, 0 none can be found. */
extern int pop3_where(stralloc *sa, char const *arg);

#endif
