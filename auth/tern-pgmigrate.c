/* tern-pgmigrate: creates tern's tables in PostgreSQL and loads a host's
 * users, aliases and relay directory into them (docs/fleet.md).
 *
 * Interface: tern-pgmigrate [ -s schema.sql ] [ -u ] [ -r ]
 *   -s FILE  run the schema file (setup/pgsql-schema.sql) first
 *   -u       load $TERN_HOME/users and aliases, replacing the tables
 *            (in one transaction; as tern-newusers does with control/pgsql)
 *   -r       copy the relay directory's fresh records, with their times
 * Exit 0 done, 100 usage or a bad input file, 111 trouble.
 *
 * SECURITY: run by the admin. Connects with control/pgsql-admin (else
 * pgsql-auth, else pgsql); every value goes as a query parameter. The
 * schema file is run as given: it is the admin's. */
#include <errno.h>
#include <time.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/direntry.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "pgdb.h"
#include "relay_db.h"
#include "users.h"

#define USAGE "tern-pgmigrate [ -s schema.sql ] [ -u ] [ -r ]"

static void schema(char const *file)
{
  stralloc sql = STRALLOC_ZERO;
  if (!openslurpclose(&sql, file) || !stralloc_0(&sql)) strerr_diefu2sys(111, "read ", file);
  if (memchr(sql.s, 0, sql.len - 1)) strerr_dief(100, file, ": NUL in the schema file");
  if (pgdb_script(PGDB_ADMIN, sql.s) < 0) strerr_diefu(111, "run ", file);
  stralloc_free(&sql);
  strerr_warni("schema ", file, " loaded");
}

static void users(void)
{
  stralloc err = STRALLOC_ZERO;
  int r = users_make_pg(&err);
  if (r < 0) strerr_diefu(111, "load ", err.len ? err.s : "the users");
  if (!r) strerr_dief(100, err.s);
  strerr_warni("users and aliases loaded");
}

/* Each record of the relay directory that is still fresh. */
static void relay(void)
{
  stralloc dir = STRALLOC_ZERO, path = STRALLOC_ZERO;
  unsigned int minutes, n = 0;
  char fmt[UINT_FMT];
  time_t now = time(0);
  DIR *dh;
  if (relay_expiry(&minutes) < 0) strerr_diefu1sys(111, "read RELAY_EXPIRY or control/relayexpiry");
  if (relay_dir(&dir) < 0) strerr_diefu1sys(111, "find the relay directory");
  dh = opendir(dir.s);
  if (!dh) strerr_diefu2sys(111, "open ", dir.s);
  for (;;)
  {
    char canon[RELAY_NAME_MAX];
    struct stat st;
    direntry *d;
    errno = 0;
    d = readdir(dh);
    if (!d) break;
    if (!relay_name(canon, d->d_name) || strcmp(canon, d->d_name)) continue;
    path.len = 0;
    if (!stralloc_cats(&path, dir.s) || !stralloc_catb(&path, "/", 1) || !stralloc_cats(&path, canon) || !stralloc_0(&path))
      strerr_diefu1sys(111, "stralloc_catb");
    if (lstat(path.s, &st) < 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_mtime <= now - (time_t)minutes * 60 || st.st_mtime >= now + (time_t)minutes * 60) continue;
    if (relay_pg_import(canon, st.st_mtime) < 0) strerr_diefu(111, "load the relay record of ", canon);
    n++;
  }
  if (errno) strerr_diefu2sys(111, "read ", dir.s);
  closedir(dh);
  fmt[uint_fmt(fmt, n)] = 0;
  strerr_warni(fmt, " relay records loaded from ", dir.s);
  stralloc_free(&dir);
  stralloc_free(&path);
}

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  char const *file = 0;
  int u = 0, r = 0;
  PROG = "tern-pgmigrate";
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "s:ur", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 's': file = l.arg; break;
      case 'u': u = 1; break;
      case 'r': r = 1; break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  if (l.ind != argc || (!file && !u && !r)) strerr_dieusage(100, USAGE);
  if (file) schema(file);
  if (u) users();
  if (r) relay();
  pgdb_close();
  return 0;
}
