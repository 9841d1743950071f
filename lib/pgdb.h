/* pgdb.h: the PostgreSQL connection shared by the users and relay lookups
 * (docs/fleet.md). A control file holding a libpq connection string selects
 * the database; without it every caller keeps using the files.
 *
 *   control/pgsql       the connection string (one line) for everything but
 *                       password hashes: user lookups, aliases, relay table
 *   control/pgsql-auth  the one for reading password hashes
 *                       (tern-checkpassword); missing: control/pgsql
 *   control/pgsql-admin the one for writing the tables (tern-passwd,
 *                       tern-newusers, tern-pgmigrate); missing:
 *                       control/pgsql-auth, then control/pgsql
 * so that each database user has only the rights its programs use
 * (the GRANTs are in setup/pgsql-schema.sql and docs/fleet.md).
 *
 * Each process keeps one connection per role for its whole life (an SMTP
 * session looks up every RCPT; a pooled worker serves many sessions) and
 * connects again by itself when a query finds the connection broken.
 *
 * SECURITY: a connection string may hold a password. It is read from the
 * control file only, never from argv, and never logged; a file that others
 * may read is refused. Every query is parameterised: callers pass values as
 * parameters, never inside the SQL text. In a set-id program libpq's PG*
 * environment variables are removed first, since they are the caller's. */
#ifndef TERN_PGDB_H
#define TERN_PGDB_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define PGDB_READ 0
#define PGDB_AUTH 1
#define PGDB_ADMIN 2
#define PGDB_ROLES 3

#define PGDB_CONTROL "pgsql"
#define PGDB_CONTROL_AUTH "pgsql-auth"
#define PGDB_CONTROL_ADMIN "pgsql-admin"
/* Seconds a connection attempt may take unless the connection string says
 * otherwise (connect_timeout=...). */
#define PGDB_CONNECT_TIMEOUT "10"
/* The server-side limit on one statement for the lookup roles (read,
 * auth), unless the connection string gives its own options=...: a lock
 * held by an admin's open transaction, or a server that stalls, must not
 * hold every SMTP worker and POP3 login. The admin role has none (a
 * migration may run long statements). */
#define PGDB_LOOKUP_OPTIONS "-c statement_timeout=10s -c lock_timeout=5s"
/* Longest connection string read from the control file. */
#define PGDB_CONNINFO_MAX 4096

/* The rows of a result: every value NUL-terminated, row after row, in
 * vals (a NULL reads as the empty string). affected: the rows an INSERT,
 * UPDATE or DELETE touched. */
typedef struct pgdb_res_s pgdb_res;
struct pgdb_res_s
{
  stralloc vals;
  size_t nrows;
  size_t ncols;
  unsigned long affected;
};
#define PGDB_RES_ZERO { .vals = STRALLOC_ZERO, .nrows = 0, .ncols = 0, .affected = 0 }

/* 1 when control/pgsql exists (the database is the users and relay
 * backend), 0 when it does not, -1 when it cannot be checked (errno). */
extern int pgdb_configured(void);

/* Runs sql with n text parameters on the role's connection, connecting
 * first when needed; a broken connection outside a transaction is opened
 * again and the query retried once. res may be 0. 1 ok; -1 error, logged
 * as a warning with the server's message (errno EIO, or the system's). */
extern int pgdb_exec(unsigned int role, char const *sql, unsigned int n, char const *const *params, pgdb_res *res);

/* The value at row, col of res (valid indices only). */
extern char const *pgdb_val(pgdb_res const *res, size_t row, size_t col);

/* A transaction on the role's connection: begin, then commit (1 ok, -1
 * error) or rollback (always; errors ignored). A broken connection inside
 * a transaction is not retried: the caller's whole transaction fails. */
extern int pgdb_begin(unsigned int role);
extern int pgdb_commit(unsigned int role);
extern void pgdb_rollback(unsigned int role);

extern void pgdb_res_free(pgdb_res *res);

/* Runs a whole SQL script (several statements, no parameters: the schema
 * file, which the admin gives). 1 ok, -1 error (logged). */
extern int pgdb_script(unsigned int role, char const *sql);

/* Closes every connection (tests, and before exec). */
extern void pgdb_close(void);

#endif
