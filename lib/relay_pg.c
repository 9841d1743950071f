/* relay_pg.c: the POP-before-SMTP table in PostgreSQL (relay_db.h, docs/fleet.md).
 *
 * Times are the database server's clock (now()), so hosts whose clocks
 * differ still agree on a record's age. */
#include <errno.h>
#include <skalibs/types.h>
#include "pgdb.h"
#include "relay_db.h"

int relay_pg_record(char const *name)
{
  char const *p[1] = { name };
  return pgdb_exec(PGDB_READ, "INSERT INTO tern_relay (ip, at) VALUES ($1, now()) "
                   "ON CONFLICT (ip) DO UPDATE SET at = now()", 1, p, 0);
}

int relay_pg_import(char const *name, time_t at)
{
  char t[ULONG_FMT];
  char const *p[2] = { name, t };
  t[ulong_fmt(t, (unsigned long)at)] = 0;
  /* A newer login already in the table is kept. */
  return pgdb_exec(PGDB_ADMIN, "INSERT INTO tern_relay (ip, at) VALUES ($1, to_timestamp($2::bigint)) "
                   "ON CONFLICT (ip) DO UPDATE SET at = GREATEST(tern_relay.at, EXCLUDED.at)", 2, p, 0);
}

int relay_pg_fresh(char const *name, time_t maxage)
{
  char s[ULONG_FMT];
  char const *p[2] = { name, s };
  pgdb_res res = PGDB_RES_ZERO;
  int r;
  s[ulong_fmt(s, (unsigned long)maxage)] = 0;
  /* Fresh: younger than maxage, and not from the future (a clock that
   * jumped) beyond it. The client's own stale record goes at once. */
  r = pgdb_exec(PGDB_READ, "SELECT 1 FROM tern_relay WHERE ip = $1 "
                "AND at > now() - make_interval(secs => $2::bigint) "
                "AND at < now() + make_interval(secs => $2::bigint)", 2, p, &res);
  if (r > 0) r = res.nrows > 0;
  if (!r && pgdb_exec(PGDB_READ, "DELETE FROM tern_relay WHERE ip = $1 AND NOT "
                      "(at > now() - make_interval(secs => $2::bigint) "
                      "AND at < now() + make_interval(secs => $2::bigint))", 2, p, 0) < 0) r = -1;
  pgdb_res_free(&res);
  return r;
}

int relay_pg_sweep(time_t maxage, time_t every)
{
  char s[ULONG_FMT], e[ULONG_FMT];
  char const *p[2] = { s, e };
  pgdb_res res = PGDB_RES_ZERO;
  int r;
  s[ulong_fmt(s, (unsigned long)maxage)] = 0;
  e[ulong_fmt(e, (unsigned long)every)] = 0;
  /* The one row of tern_relay_sweep is the fleet's sweep marker: the host
   * whose UPDATE moves it sweeps, the others skip. */
  r = pgdb_exec(PGDB_READ, "WITH due AS (UPDATE tern_relay_sweep SET at = now() "
                "WHERE at <= now() - make_interval(secs => $2::bigint) "
                "OR at > now() + make_interval(secs => $2::bigint) RETURNING 1) "
                "DELETE FROM tern_relay WHERE EXISTS (SELECT 1 FROM due) AND NOT "
                "(at > now() - make_interval(secs => $1::bigint) "
                "AND at < now() + make_interval(secs => $1::bigint))", 2, p, &res);
  if (r > 0) r = res.affected > (unsigned long)0x7fffffff ? 0x7fffffff : (int)res.affected;
  pgdb_res_free(&res);
  return r;
}
