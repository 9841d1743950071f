/* pop3_where.c: which Maildir the mailbox part of tern-pop3d opens. */
#include <stdlib.h>
#include <skalibs/stralloc.h>
#include "users.h"
#include "pop3_where.h"

static int under_home(stralloc *sa, char const *rel)
{
  char const *home = getenv("HOME");
  if (!home || home[0] != '/') return 0;
  return stralloc_copys(sa, home) && stralloc_cats(sa, "/") && stralloc_cats(sa, rel) && stralloc_0(sa);
}

int pop3_where(stralloc *sa, char const *arg)
{
  char const *md = getenv("MAILDIR");
  char const *user = getenv("USER");
  if (arg)
    return arg[0] == '/' ? stralloc_copys(sa, arg) && stralloc_0(sa) : under_home(sa, arg);
  if (md && md[0] == '/') return stralloc_copys(sa, md) && stralloc_0(sa);
  /* tern's own users: the table knows the Maildir (HOME is only its parent,
   * docs/INTERNALS.md). Anyone else: qmail's $HOME/Maildir/. */
  if (user && *user && users_maildir(sa, user) > 0) return 1;
  return under_home(sa, "Maildir/");
}
