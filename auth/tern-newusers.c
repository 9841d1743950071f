/* tern-newusers: compiles $TERN_HOME/users and aliases into their cdbs. */
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include "users.h"

#define USAGE "tern-newusers"

int main(int argc, char const *const *argv)
{
  stralloc err = STRALLOC_ZERO;
  int r;
  PROG = "tern-newusers";
  if (argc > 1) strerr_dieusage(100, USAGE);
  (void)argv;
  r = users_make(&err);
  if (r < 0) strerr_diefusys(111, "build ", err.len ? err.s : "the tables");
  if (!r) strerr_dief(100, err.s);
  return 0;
}
