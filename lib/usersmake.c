/* usersmake.c: compiles the users and aliases text files into their cdbs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "cdbwrite.h"
#include "control.h"
#include "pgdb.h"
#include "users.h"

typedef struct table_s table;
struct table_s
{
  stralloc tmp;       /* its temporary path */
  stralloc path;      /* its final path */
  cdbwrite w;
  int open;
};

/* Printable ASCII without blanks: what we accept in an address. */
static int addr_ok(char const *s, size_t n)
{
  size_t i, at = 0, ats = 0;
  if (!n || n > 512) return 0;
  for (i = 0; i < n; i++)
  {
    unsigned char c = (unsigned char)s[i];
    if (c <= 32 || c >= 127 || c == ':' || c == ',' || c == '<' || c == '>') return 0;
    if (c == '@') { at = i; ats++; }
  }
  return ats == 1 && at > 0 && at < n - 1;
}

static int field_ok(char const *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
  {
    unsigned char c = (unsigned char)s[i];
    if (c < 32 || c >= 127) return 0;
  }
  return 1;
}

int users_parse_line(stralloc *out, char const *line, size_t len, char const **why)
{
  char const *c1 = memchr(line, ':', len), *c2;
  size_t alen, hlen, mlen;
  out->len = 0;
  if (!c1 || !(c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line))))
  { *why = "expected address:hash:maildir"; return 0; }
  alen = (size_t)(c1 - line);
  hlen = (size_t)(c2 - c1 - 1);
  mlen = len - (size_t)(c2 + 1 - line);
  if (!addr_ok(line, alen)) { *why = "bad address"; return 0; }
  if (!field_ok(c1 + 1, hlen)) { *why = "bad hash"; return 0; }
  if (!mlen || c2[mlen] != '/' || !field_ok(c2 + 1, mlen) || memchr(c2 + 1, ':', mlen))
  { *why = "maildir must be a path ending in /"; return 0; }
  {
    /* A ".." component would let a users line point outside the instance
     * through a relative path: refuse it outright. */
    char const *m = c2 + 1;
    size_t i;
    for (i = 0; i + 1 < mlen; i++)
      if (m[i] == '.' && m[i+1] == '.' && (!i || m[i-1] == '/') && (i + 2 == mlen || m[i+2] == '/'))
      { *why = "maildir may not contain .."; return 0; }
  }
  if (!stralloc_catb(out, line, alen)) return -1;
  if (!stralloc_0(out)) return -1;
  {
    size_t i;
    for (i = 0; i < alen; i++)
      if (out->s[i] >= 'A' && out->s[i] <= 'Z') out->s[i] += 'a' - 'A';
  }
  return stralloc_catb(out, c1 + 1, hlen) && stralloc_0(out)
      && stralloc_catb(out, c2 + 1, mlen) && stralloc_0(out) ? 1 : -1;
}

static int table_open(table *t, char const *name, mode_t mode)
{
  if (!tern_path(&t->path, name)) return -1;
  t->tmp.len = 0;
  if (!stralloc_catb(&t->tmp, t->path.s, t->path.len - 1) || !stralloc_cats(&t->tmp, ".tmp")
   || !stralloc_0(&t->tmp)) return -1;
  if (!cdbwrite_start(&t->w, t->path.s, t->tmp.s, mode)) return -1;
  t->open = 1;
  return 1;
}

static int table_commit(table *t)
{
  t->open = 0;
  return cdbwrite_finish(&t->w) ? 1 : -1;
}

static void table_free(table *t)
{
  if (t->open) cdbwrite_abort(&t->w);
  t->open = 0;
  stralloc_free(&t->tmp);
  stralloc_free(&t->path);
}

static int bad(stralloc *err, char const *file, unsigned int lineno, char const *why)
{
  char fmt[UINT_FMT];
  fmt[uint_fmt(fmt, lineno)] = 0;
  err->len = 0;
  if (!stralloc_cats(err, file) || !stralloc_cats(err, " line ") || !stralloc_cats(err, fmt)
   || !stralloc_cats(err, ": ") || !stralloc_cats(err, why) || !stralloc_0(err)) return -1;
  return 0;
}

/* Calls fn on each line that is not blank or a comment, with its number.
 * fn returns 1 to go on, 0 to stop with a syntax error, -1 system error. */
typedef int linefn(char const *, size_t, unsigned int, void *, char const **);
static int each_line(stralloc const *buf, linefn *fn, void *data, unsigned int *lineno, char const **why)
{
  size_t i = 0;
  *lineno = 0;
  while (i < buf->len)
  {
    char const *s = buf->s + i;
    char const *nl = memchr(s, '\n', buf->len - i);
    size_t n = nl ? (size_t)(nl - s) : buf->len - i;
    int r;
    i += n + 1;
    ++*lineno;
    while (n && (s[n-1] == ' ' || s[n-1] == '\t' || s[n-1] == '\r')) n--;
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    if (!n || *s == '#') continue;
    if (n > USERS_LINE_MAX) { *why = "line too long"; return 0; }
    if (memchr(s, 0, n)) { *why = "NUL in line"; return 0; }
    r = fn(s, n, *lineno, data, why);
    if (r <= 0) return r;
  }
  return 1;
}

typedef struct userctx_s userctx;
struct userctx_s { table *users, *passwd; stralloc f; int pg; };

static int user_line(char const *s, size_t n, unsigned int lineno, void *data, char const **why)
{
  userctx *u = data;
  size_t alen, hlen, mlen;
  int r = users_parse_line(&u->f, s, n, why);
  (void)lineno;
  if (r <= 0) return r;
  alen = strlen(u->f.s);
  hlen = strlen(u->f.s + alen + 1);
  mlen = strlen(u->f.s + alen + hlen + 2);
  if (u->pg) return users_pg_put(u->f.s, u->f.s + alen + 1, u->f.s + alen + hlen + 2);
  if (!cdbwrite_add(&u->users->w, u->f.s, alen, u->f.s + alen + hlen + 2, mlen)) return -1;
  /* passwd.cdb value: hash ':' maildir (the hash never holds a ':'). */
  u->f.s[alen + 1 + hlen] = ':';
  if (!cdbwrite_add(&u->passwd->w, u->f.s, alen, u->f.s + alen + 1, hlen + 1 + mlen)) return -1;
  return 1;
}

/* Where alias lines go: a cdb, or the database (t 0). */
typedef struct aliasctx_s aliasctx;
struct aliasctx_s { table *t; };

/* aliases line: "address: target, target" -> key address, value targets
 * each NUL-terminated. */
static int alias_line(char const *s, size_t n, unsigned int lineno, void *data, char const **why)
{
  table *t = ((aliasctx *)data)->t;
  stralloc v = STRALLOC_ZERO, k = STRALLOC_ZERO;
  char const *colon = memchr(s, ':', n);
  size_t i, count = 0;
  int r = -1;
  (void)lineno;
  if (!colon || !addr_ok(s, (size_t)(colon - s))) { *why = "expected address: target, ..."; return 0; }
  if (!stralloc_catb(&k, s, (size_t)(colon - s)) || !stralloc_0(&k) || !users_canon(&k, k.s)) goto end;
  i = (size_t)(colon + 1 - s);
  while (i < n)
  {
    size_t a, b;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) i++;
    a = i;
    while (i < n && s[i] != ',' && s[i] != ' ' && s[i] != '\t') i++;
    b = i;
    if (a == b) continue;
    if (s[a] == '<' && s[b-1] == '>' && b - a > 2) { a++; b--; }
    if (!addr_ok(s + a, b - a)) { *why = "bad target address"; r = 0; goto end; }
    if (!stralloc_catb(&v, s + a, b - a) || !stralloc_0(&v)) goto end;
    count++;
  }
  if (!count) { *why = "alias without targets"; r = 0; goto end; }
  if (!t) r = users_pg_put_alias(k.s, v.s, v.len);
  else r = cdbwrite_add(&t->w, k.s, k.len - 1, v.s, v.len) ? 1 : -1;
 end:
  stralloc_free(&v);
  stralloc_free(&k);
  return r;
}

/* err = $TERN_HOME/NAME: the message names the file in full. errno kept. */
static void errpath(stralloc *err, char const *name)
{
  int e = errno;
  if (!tern_path(err, name)) err->len = 0;
  errno = e;
}

static int compile_file(char const *name, int optional, linefn *fn, void *data, stralloc *err)
{
  stralloc path = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  unsigned int lineno = 0;
  char const *why = "syntax error";
  int r;
  if (!tern_path(&path, name)) return -1;
  if (!openreadfileclose(path.s, &buf, 0))
  {
    int e = errno;
    r = (e == ENOENT && optional) ? 1 : -1;
    if (r < 0) { err->len = 0; stralloc_catb(err, path.s, path.len); }
    stralloc_free(&path);
    errno = e;
    return r;
  }
  r = each_line(&buf, fn, data, &lineno, &why);
  if (!r && bad(err, name, lineno, why) < 0) r = -1;
  if (r < 0 && !err->len) stralloc_catb(err, path.s, path.len);
  stralloc_free(&path);
  stralloc_free(&buf);
  return r;
}

int users_make(stralloc *err)
{
  table t[3];
  static char const *const names[3] = { "users.cdb", "passwd.cdb", "aliases.cdb" };
  /* passwd.cdb holds the hashes: only its owner (the auth user) reads it. */
  static mode_t const modes[3] = { 0644, 0600, 0644 };
  userctx u = { .users = &t[0], .passwd = &t[1], .f = STRALLOC_ZERO, .pg = 0 };
  aliasctx ac = { .t = &t[2] };
  int r = -1, i;
  err->len = 0;
  for (i = 0; i < 3; i++)
  {
    cdbwrite z = CDBWRITE_ZERO;
    t[i].tmp = stralloc_zero;
    t[i].path = stralloc_zero;
    t[i].w = z;
    t[i].open = 0;
  }
  for (i = 0; i < 3; i++)
    if (table_open(&t[i], names[i], modes[i]) < 0) { errpath(err, names[i]); goto end; }
  r = compile_file("users", 0, &user_line, &u, err);
  if (r <= 0) goto end;
  r = compile_file("aliases", 1, &alias_line, &ac, err);
  if (r <= 0) goto end;
  /* passwd.cdb first: a user added shows up for login no later than for mail. */
  for (i = 1; i < 4; i++)
    if (table_commit(&t[i % 3]) < 0) { errpath(err, names[i % 3]); r = -1; goto end; }
  r = 1;
 end:
  if (err->len && err->s[err->len - 1]) stralloc_0(err);
  {
    int e = errno;
    for (i = 0; i < 3; i++) table_free(&t[i]);
    stralloc_free(&u.f);
    errno = e;
  }
  return r;
}

int users_make_pg(stralloc *err)
{
  userctx u = { .users = 0, .passwd = 0, .f = STRALLOC_ZERO, .pg = 1 };
  aliasctx ac = { .t = 0 };
  int r;
  err->len = 0;
  /* One transaction: every host sees the old tables or the new ones. */
  if (pgdb_begin(PGDB_ADMIN) < 0
   || pgdb_exec(PGDB_ADMIN, "DELETE FROM tern_aliases", 0, 0, 0) < 0
   || pgdb_exec(PGDB_ADMIN, "DELETE FROM tern_users", 0, 0, 0) < 0)
  { r = -1; stralloc_cats(err, "the database"); goto end; }
  r = compile_file("users", 0, &user_line, &u, err);
  if (r > 0) r = compile_file("aliases", 1, &alias_line, &ac, err);
  if (r > 0 && pgdb_commit(PGDB_ADMIN) < 0) { r = -1; err->len = 0; stralloc_cats(err, "the database"); }
 end:
  if (r <= 0) pgdb_rollback(PGDB_ADMIN);
  if (err->len && err->s[err->len - 1]) stralloc_0(err);
  stralloc_free(&u.f);
  return r;
}
