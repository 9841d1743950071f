/* tern-newusers: compiles $TERN_HOME/users and aliases into their cdbs, or,
 * when control/pgsql exists, loads them into the database in one
 * transaction, replacing its tables (docs/fleet.md). */
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "pgdb.h"
#include "users.h"

#define USAGE "tern-newusers"

int main(int argc, char const *const *argv)
{
  stralloc err = STRALLOC_ZERO;
  int r;
  PROG = "tern-newusers";
  if (argc > 1) strerr_dieusage(100, USAGE);
  (void)argv;
  r = pgdb_configured();
  if (r < 0) { stralloc w = STRALLOC_ZERO; strerr_diefusys(111, "check ", control_where(&w, PGDB_CONTROL)); }
  r = r ? users_make_pg(&err) : users_make(&err);
  pgdb_close();
  if (r < 0) strerr_diefusys(111, "build ", err.len ? err.s : "the tables");
  if (!r) strerr_dief(100, err.s);
  return 0;
}
