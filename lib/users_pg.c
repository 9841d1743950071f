/* users_pg.c: the users and aliases tables in PostgreSQL (users.h, docs/fleet.md). */
#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "pgdb.h"
#include "users.h"

/* A row read back is checked as a users line would be: a database that was
 * written by other hands must not point a Maildir outside its place. */
static int row_ok(char const *addr, char const *hash, char const *maildir)
{
  stralloc line = STRALLOC_ZERO, out = STRALLOC_ZERO;
  char const *why;
  int r = stralloc_cats(&line, addr) && stralloc_catb(&line, ":", 1) && stralloc_cats(&line, hash)
       && stralloc_catb(&line, ":", 1) && stralloc_cats(&line, maildir)
    ? users_parse_line(&out, line.s, line.len, &why) : -1;
  stralloc_free(&line);
  stralloc_free(&out);
  return r;
}

int users_pg_lookup(char const *table, char const *key, stralloc *val)
{
  pgdb_res res = PGDB_RES_ZERO;
  char const *p[1] = { key };
  int r = -1;
  if (!strcmp(table, "aliases.cdb"))
  {
    size_t i;
    if (pgdb_exec(PGDB_READ, "SELECT target FROM tern_aliases WHERE address = $1 ORDER BY pos", 1, p, &res) < 0) goto end;
    val->len = 0;
    for (i = 0; i < res.nrows; i++)
      if (!stralloc_cats(val, pgdb_val(&res, i, 0)) || !stralloc_0(val)) goto end;
    r = res.nrows > 0;
  }
  else if (!strcmp(table, "passwd.cdb"))
  {
    if (pgdb_exec(PGDB_AUTH, "SELECT hash, maildir FROM tern_users WHERE address = $1", 1, p, &res) < 0) goto end;
    r = 0;
    if (res.nrows)
    {
      char const *h = pgdb_val(&res, 0, 0), *m = pgdb_val(&res, 0, 1);
      r = row_ok(key, h, m);
      if (!r) errno = EPROTO;
      if (r <= 0) { r = -1; goto end; }
      val->len = 0;
      if (!stralloc_cats(val, h) || !stralloc_catb(val, ":", 1) || !stralloc_cats(val, m)) r = -1;
    }
  }
  else
  {
    if (pgdb_exec(PGDB_READ, "SELECT maildir FROM tern_users WHERE address = $1", 1, p, &res) < 0) goto end;
    r = 0;
    if (res.nrows)
    {
      char const *m = pgdb_val(&res, 0, 0);
      r = row_ok(key, "", m);
      if (!r) errno = EPROTO;
      if (r <= 0) { r = -1; goto end; }
      val->len = 0;
      if (!stralloc_cats(val, m)) r = -1;
    }
  }
 end:
  /* ENOENT means "tables not built yet" to tern-smtpd, which then accepts:
   * a database that cannot be asked is a temporary failure instead. */
  if (r < 0 && errno == ENOENT) errno = EIO;
  pgdb_res_free(&res);
  return r;
}

int users_pg_edit(char op, char const *address, char const *hash, char const *maildir, char const **why)
{
  stralloc f = STRALLOC_ZERO, line = STRALLOC_ZERO;
  pgdb_res res = PGDB_RES_ZERO;
  char const *p[3];
  int r;
  /* The same checks as a users line: what the files refuse, so does the database. */
  r = stralloc_cats(&line, address) && stralloc_catb(&line, ":", 1) && stralloc_cats(&line, hash ? hash : "")
   && stralloc_catb(&line, ":", 1) && stralloc_cats(&line, maildir ? maildir : "x/")
    ? users_parse_line(&f, line.s, line.len, why) : -1;
  if (r <= 0) goto end;
  p[0] = f.s;
  p[1] = f.s + strlen(f.s) + 1;
  p[2] = p[1] + strlen(p[1]) + 1;
  if (op == 'a')
    r = pgdb_exec(PGDB_ADMIN, "INSERT INTO tern_users (address, hash, maildir) VALUES ($1, $2, $3) ON CONFLICT (address) DO NOTHING", 3, p, &res);
  else if (op == 'c')
    r = pgdb_exec(PGDB_ADMIN, "UPDATE tern_users SET hash = $2 WHERE address = $1", 2, p, &res);
  else
    r = pgdb_exec(PGDB_ADMIN, "DELETE FROM tern_users WHERE address = $1", 1, p, &res);
  if (r > 0 && !res.affected) { r = 0; *why = op == 'a' ? "already there" : "no such user"; }
 end:
  stralloc_free(&f);
  stralloc_free(&line);
  pgdb_res_free(&res);
  return r;
}

int users_pg_put(char const *address, char const *hash, char const *maildir)
{
  char const *p[3] = { address, hash, maildir };
  return pgdb_exec(PGDB_ADMIN, "INSERT INTO tern_users (address, hash, maildir) VALUES ($1, $2, $3) "
                   "ON CONFLICT (address) DO UPDATE SET hash = EXCLUDED.hash, maildir = EXCLUDED.maildir", 3, p, 0);
}

int users_pg_put_alias(char const *address, char const *targets, size_t len)
{
  char pos[UINT_FMT];
  size_t i = 0;
  unsigned int k = 0;
  char const *p[3] = { address, pos, 0 };
  if (pgdb_exec(PGDB_ADMIN, "DELETE FROM tern_aliases WHERE address = $1", 1, p, 0) < 0) return -1;
  while (i < len)
  {
    p[2] = targets + i;
    pos[uint_fmt(pos, k++)] = 0;
    if (pgdb_exec(PGDB_ADMIN, "INSERT INTO tern_aliases (address, pos, target) VALUES ($1, $2, $3)", 3, p, 0) < 0) return -1;
    i += strlen(targets + i) + 1;
  }
  return 1;
}
