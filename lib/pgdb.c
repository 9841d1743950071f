/* pgdb.c: the PostgreSQL connection of a process (see pgdb.h).
 *
 * libpq is loaded with dlopen at the first connection, not linked: it
 * brings some twenty shared libraries (OpenSSL, GnuTLS, Kerberos, LDAP)
 * whose loading and constructors cost about 20 ms of CPU at every exec
 * (bench/RESULTS.md), paid by every tern-smtpd, tern-relaycheck and
 * tern-checkpassword run, of which only those on a host with
 * control/pgsql ever use it. Without libpq installed, a configured
 * database fails like an unreachable one (a temporary error). */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libpq-fe.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "pgdb.h"
#include "setid.h"

extern char **environ;

/* One connection per role for the life of the process. The lookups of
 * lib/users.h and lib/relay_db.h take no handle (their callers predate the
 * database), so the connection lives here; it is all this module keeps. */
static PGconn *conns[PGDB_ROLES];
static int intx[PGDB_ROLES];

/* The libpq functions we call, found in the library once loaded. The
 * names keep libpq's, so the code below reads as if linked. */
#define PGDB_FUNCS(X) X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) \
  X(PQexecParams) X(PQexec) X(PQresultStatus) X(PQclear) X(PQntuples) X(PQnfields) \
  X(PQcmdTuples) X(PQgetvalue)
#define PGDB_FIELD(f) __typeof__(f) *p_##f;
static struct { PGDB_FUNCS(PGDB_FIELD) } pq;
#undef PGDB_FIELD
#define PQconnectdbParams pq.p_PQconnectdbParams
#define PQstatus pq.p_PQstatus
#define PQerrorMessage pq.p_PQerrorMessage
#define PQfinish pq.p_PQfinish
#define PQexecParams pq.p_PQexecParams
#define PQexec pq.p_PQexec
#define PQresultStatus pq.p_PQresultStatus
#define PQclear pq.p_PQclear
#define PQntuples pq.p_PQntuples
#define PQnfields pq.p_PQnfields
#define PQcmdTuples pq.p_PQcmdTuples
#define PQgetvalue pq.p_PQgetvalue

/* libpq's major version 5 (the soname of every libpq since PostgreSQL 8.0).
 * Loaded once; a library without one of our functions is not used.
 * SECURITY: a fixed name, searched the system's way; in a set-id program
 * the loader ignores LD_LIBRARY_PATH (secure execution). 1 ok, -1 error
 * (logged). */
static int load_libpq(void)
{
  static void *lib;
  void *h;
  if (lib) return 1;
  h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!h)
  {
    char const *m = dlerror();
    strerr_warnw("PostgreSQL: unable to load libpq: ", m ? m : "unknown error");
    errno = ENOSYS;
    return -1;
  }
#define PGDB_SYM(f) if (!(*(void **)&pq.p_##f = dlsym(h, #f))) goto missing;
  PGDB_FUNCS(PGDB_SYM)
#undef PGDB_SYM
  lib = h;
  return 1;
 missing:
  strerr_warnw("PostgreSQL: libpq.so.5 lacks a function tern uses");
  dlclose(h);
  memset(&pq, 0, sizeof pq);
  errno = ENOSYS;
  return -1;
}

/* sa = $TERN_HOME/control/NAME. 1 ok, 0 out of memory (sa freed). */
static int control_path(stralloc *sa, char const *name)
{
  stralloc rel = STRALLOC_ZERO;
  int r = stralloc_cats(&rel, "control/") && stralloc_cats(&rel, name) && stralloc_0(&rel)
       && tern_path(sa, rel.s);
  stralloc_free(&rel);
  if (!r) stralloc_free(sa);
  return r;
}

int pgdb_configured(void)
{
  stralloc path = STRALLOC_ZERO;
  struct stat st;
  int r;
  if (!control_path(&path, PGDB_CONTROL)) return -1;
  r = stat(path.s, &st) == 0 ? 1 : errno == ENOENT ? 0 : -1;
  stralloc_free(&path);
  return r;
}

/* One line of a server message, made printable, for the log. */
static void warn_pg(char const *what, char const *msg)
{
  char line[256];
  size_t i = 0;
  while (msg && msg[i] && msg[i] != '\n' && i < sizeof line - 1)
  {
    unsigned char c = (unsigned char)msg[i];
    line[i++] = c >= 32 && c < 127 ? (char)c : '?';
  }
  line[i] = 0;
  strerr_warnw("PostgreSQL: unable to ", what, ": ", i ? line : "no message");
}

/* Reads the connection string of role into sa. A file others may read is
 * refused: it may hold a password. 1 ok, -1 error (logged). */
static int conninfo(unsigned int role, stralloc *sa)
{
  /* The role's own file, else the next more general one. */
  static char const *const chain[PGDB_ROLES][3] = {
    { PGDB_CONTROL, 0, 0 },
    { PGDB_CONTROL_AUTH, PGDB_CONTROL, 0 },
    { PGDB_CONTROL_ADMIN, PGDB_CONTROL_AUTH, PGDB_CONTROL },
  };
  char const *name = PGDB_CONTROL;
  stralloc path = STRALLOC_ZERO;
  struct stat st;
  unsigned int i;
  int r;
  for (i = 0; i < 3 && chain[role][i]; i++)
  {
    if (!control_path(&path, chain[role][i])) return -1;
    if (stat(path.s, &st) == 0) { name = chain[role][i]; break; }
    if (errno != ENOENT) { strerr_warnwusys("stat ", path.s); stralloc_free(&path); return -1; }
  }
  if (!control_path(&path, name)) return -1;
  if (stat(path.s, &st) < 0) { strerr_warnwusys("stat ", path.s); stralloc_free(&path); return -1; }
  if (st.st_mode & S_IROTH)
  {
    strerr_warnw("refusing ", path.s, ": readable by everyone, and it may hold a password (chmod o-r)");
    stralloc_free(&path);
    errno = EPERM;
    return -1;
  }
  r = control_readline(sa, name);
  if (r <= 0 || sa->len <= 1 || sa->len > PGDB_CONNINFO_MAX)
  {
    if (r < 0) strerr_warnwusys("read ", path.s);
    else strerr_warnw(path.s, " is empty or too long: no database");
    stralloc_free(&path);
    errno = EINVAL;
    return -1;
  }
  stralloc_free(&path);
  return 1;
}

/* libpq takes defaults from PG* variables; a set-id program's environment
 * is its caller's, who could point it at another server or passfile. */
static void clear_pgenv(void)
{
  for (;;)
  {
    char **e;
    char name[64];
    size_t n;
    for (e = environ; *e; e++) if (!strncmp(*e, "PG", 2)) break;
    if (!*e) return;
    n = strcspn(*e, "=");
    if (n >= sizeof name) { (*e)[0] = '_'; continue; }
    memcpy(name, *e, n);
    name[n] = 0;
    if (unsetenv(name) < 0) return;
  }
}

static PGconn *connect_role(unsigned int role)
{
  stralloc ci = STRALLOC_ZERO;
  /* The connection string comes last (expand_dbname), so its own
   * connect_timeout and options win over ours. */
  char const *keys[] = { "connect_timeout", "application_name", "options", "dbname", 0 };
  char const *vals[] = { PGDB_CONNECT_TIMEOUT, PROG, "", 0, 0 };
  PGconn *c;
  if (conninfo(role, &ci) < 0) return 0;
  if (load_libpq() < 0) { memset(ci.s, 0, ci.len); stralloc_free(&ci); errno = EIO; return 0; }
  if (setid_secure()) clear_pgenv();
  if (role != PGDB_ADMIN) vals[2] = PGDB_LOOKUP_OPTIONS;
  vals[3] = ci.s;
  c = PQconnectdbParams(keys, vals, 1);
  memset(ci.s, 0, ci.len);
  stralloc_free(&ci);
  if (!c) { errno = ENOMEM; return 0; }
  if (PQstatus(c) != CONNECTION_OK)
  {
    warn_pg("connect", PQerrorMessage(c));
    PQfinish(c);
    errno = EIO;
    return 0;
  }
  return c;
}

void pgdb_res_free(pgdb_res *res)
{
  stralloc_free(&res->vals);
  res->nrows = res->ncols = 0;
  res->affected = 0;
}

char const *pgdb_val(pgdb_res const *res, size_t row, size_t col)
{
  size_t i = 0, k = row * res->ncols + col;
  while (k--) i += strlen(res->vals.s + i) + 1;
  return res->vals.s + i;
}

static int keep(PGresult *pr, pgdb_res *res)
{
  int rows = PQntuples(pr), cols = PQnfields(pr), i, j;
  char const *aff = PQcmdTuples(pr);
  unsigned long a = 0;
  res->vals.len = 0;
  res->nrows = (size_t)rows;
  res->ncols = (size_t)cols;
  if (aff && *aff) ulong_scan(aff, &a);
  res->affected = a;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++)
      if (!stralloc_cats(&res->vals, PQgetvalue(pr, i, j)) || !stralloc_0(&res->vals)) return -1;
  return 1;
}

int pgdb_exec(unsigned int role, char const *sql, unsigned int n, char const *const *params, pgdb_res *res)
{
  int tries;
  if (role >= PGDB_ROLES) { errno = EINVAL; return -1; }
  for (tries = 0; tries < 2; tries++)
  {
    PGresult *pr;
    ExecStatusType st;
    if (!conns[role] || PQstatus(conns[role]) != CONNECTION_OK)
    {
      if (conns[role]) { PQfinish(conns[role]); conns[role] = 0; if (intx[role]) { errno = EIO; return -1; } }
      conns[role] = connect_role(role);
      if (!conns[role]) return -1;
    }
    pr = PQexecParams(conns[role], sql, (int)n, 0, params, 0, 0, 0);
    st = pr ? PQresultStatus(pr) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
    {
      int r = res ? keep(pr, res) : 1;
      PQclear(pr);
      if (r < 0) errno = ENOMEM;
      return r;
    }
    PQclear(pr);
    /* A server that went away shows as a broken connection: once more on a
     * fresh one, unless a transaction was under way (it is gone with it). */
    if (PQstatus(conns[role]) == CONNECTION_OK || intx[role] || tries)
    {
      warn_pg("run a query", PQerrorMessage(conns[role]));
      errno = EIO;
      return -1;
    }
  }
  errno = EIO;
  return -1;
}

int pgdb_script(unsigned int role, char const *sql)
{
  PGresult *pr;
  ExecStatusType st;
  if (role >= PGDB_ROLES) { errno = EINVAL; return -1; }
  if (!conns[role] || PQstatus(conns[role]) != CONNECTION_OK)
  {
    if (conns[role]) PQfinish(conns[role]);
    conns[role] = connect_role(role);
    if (!conns[role]) return -1;
  }
  pr = PQexec(conns[role], sql);
  st = pr ? PQresultStatus(pr) : PGRES_FATAL_ERROR;
  PQclear(pr);
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return 1;
  warn_pg("run the script", PQerrorMessage(conns[role]));
  errno = EIO;
  return -1;
}

int pgdb_begin(unsigned int role)
{
  if (pgdb_exec(role, "BEGIN", 0, 0, 0) < 0) return -1;
  intx[role] = 1;
  return 1;
}

int pgdb_commit(unsigned int role)
{
  int r = pgdb_exec(role, "COMMIT", 0, 0, 0);
  intx[role] = 0;
  return r;
}

void pgdb_rollback(unsigned int role)
{
  int e = errno;
  if (conns[role] && PQstatus(conns[role]) == CONNECTION_OK)
  {
    PGresult *pr = PQexec(conns[role], "ROLLBACK");
    PQclear(pr);
  }
  intx[role] = 0;
  errno = e;
}

void pgdb_close(void)
{
  unsigned int i;
  for (i = 0; i < PGDB_ROLES; i++)
  {
    if (conns[i]) PQfinish(conns[i]);
    conns[i] = 0;
    intx[i] = 0;
  }
}
