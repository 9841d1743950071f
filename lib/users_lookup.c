/* users_lookup.c: user, password and alias lookups, in the cdbs built from
 * the files or, when control/pgsql exists, in PostgreSQL (users_pg.c). */
#include <errno.h>
#include <string.h>
#include <skalibs/cdb.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "pgdb.h"
#include "users.h"

/* Looks key up in $TERN_HOME/NAME; on a hit the value is copied to val
 * (not NUL-terminated). 1 found, 0 not, -1 error. A missing cdb is an
 * error: the tables have not been built, and "unknown user" would bounce. */
static int lookup(char const *name, char const *key, size_t klen, stralloc *val)
{
  stralloc path = STRALLOC_ZERO;
  cdb c = CDB_ZERO;
  cdb_data d;
  int r = pgdb_configured();
  if (r) return r < 0 ? -1 : users_pg_lookup(name, key, val);
  r = -1;
  if (!tern_path(&path, name)) return -1;
  if (!cdb_init(&c, path.s)) goto end;
  r = cdb_find(&c, &d, key, (uint32_t)klen);
  if (r > 0)
  {
    val->len = 0;
    if (!stralloc_catb(val, d.s, d.len)) r = -1;
  }
  cdb_free(&c);
 end:
  stralloc_free(&path);
  return r;
}

/* Looks the canonical form of addr up; on a miss, again without "+detail". */
static int lookup_addr(char const *name, char const *addr, int detail, stralloc *val)
{
  stralloc k = STRALLOC_ZERO;
  int r = -1;
  if (!users_canon(&k, addr)) return -1;
  r = lookup(name, k.s, k.len - 1, val);
  if (!r && detail)
  {
    char *at = strrchr(k.s, '@');
    char *plus = memchr(k.s, '+', at ? (size_t)(at - k.s) : k.len - 1);
    if (at && plus && plus > k.s)
    {
      memmove(plus, at, k.len - (size_t)(at - k.s));
      r = lookup(name, k.s, strlen(k.s), val);
    }
  }
  stralloc_free(&k);
  return r;
}

/* Turns a Maildir path as written in users into an absolute one. */
static int absolute(stralloc *sa, char const *m, size_t n)
{
  sa->len = 0;
  if (!n || m[0] != '/')
  {
    if (!stralloc_cats(sa, tern_home()) || !stralloc_catb(sa, "/", 1)) return -1;
  }
  return stralloc_catb(sa, m, n) && stralloc_0(sa) ? 1 : -1;
}

int users_maildir(stralloc *sa, char const *addr)
{
  stralloc v = STRALLOC_ZERO;
  int r = lookup_addr("users.cdb", addr, 1, &v);
  if (r > 0) r = absolute(sa, v.s, v.len);
  stralloc_free(&v);
  return r;
}

int users_password(stralloc *hash, stralloc *maildir, char const *addr)
{
  stralloc v = STRALLOC_ZERO;
  int r = lookup_addr("passwd.cdb", addr, 0, &v);
  if (r > 0)
  {
    char const *colon = memchr(v.s, ':', v.len);
    if (!colon) { errno = EPROTO; r = -1; }
    else
    {
      size_t h = (size_t)(colon - v.s);
      hash->len = 0;
      if (!stralloc_catb(hash, v.s, h) || !stralloc_0(hash)
       || absolute(maildir, colon + 1, v.len - h - 1) < 0) r = -1;
    }
  }
  stralloc_free(&v);
  return r;
}

int users_alias(stralloc *sa, size_t *n, char const *addr)
{
  stralloc v = STRALLOC_ZERO;
  int r = lookup_addr("aliases.cdb", addr, 1, &v);
  *n = 0;
  if (r > 0)
  {
    size_t i;
    if (!v.len || v.s[v.len - 1]) { errno = EPROTO; r = -1; }
    else if (!stralloc_catb(sa, v.s, v.len)) r = -1;
    else for (i = 0; i < v.len; i++) if (!v.s[i]) ++*n;
  }
  stralloc_free(&v);
  return r;
}

int users_known(char const *addr)
{
  stralloc v = STRALLOC_ZERO;
  int r = lookup_addr("users.cdb", addr, 1, &v);
  if (!r) r = lookup_addr("aliases.cdb", addr, 1, &v);
  stralloc_free(&v);
  return r;
}

