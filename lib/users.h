/* users.h: the users and aliases tables (docs/INTERNALS.md, docs/users.md):
 * compiling the text files into cdbs, and the lookups that tern-smtpd
 * (RCPT validation), tern-local, tern-pop3d and tern-checkpassword make.
 *
 * Addresses are compared in canonical form: the whole address lowercased
 * (local part too: we never host two mailboxes that differ only by case).
 * Every function reads $TERN_HOME (lib/control.h) at call time.
 *
 * SECURITY: the users file and passwd.cdb hold password hashes; only the
 * auth user reads them. users.cdb and aliases.cdb hold no secrets. */
#ifndef TERN_USERS_H
#define TERN_USERS_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Longest line of the users or aliases file, and most alias targets. */
#define USERS_LINE_MAX 4096
#define USERS_ALIAS_DEPTH 8

/* sa = the canonical form of addr (lowercased), NUL-terminated.
 * 1 ok, 0 out of memory. */
extern int users_canon(stralloc *sa, char const *addr);

/* Compiles $TERN_HOME/users into users.cdb and passwd.cdb, and
 * $TERN_HOME/aliases (missing: no aliases) into aliases.cdb. Each cdb is
 * written to NAME.tmp, fsync'd and renamed, so readers see the old or the
 * new table, never a half one. 1 ok; 0 bad input (err holds
 * "FILE line N: reason"); -1 system error (errno set, err names the file). */
extern int users_make(stralloc *err);

/* Checks one users line "address:hash:maildir" (no newline) and splits it:
 * the three fields, NUL-terminated, in out (address canonical).
 * 1 ok, 0 bad (*why says what), -1 out of memory. Used by users_make and by
 * tools that edit the users file (tern-passwd). */
extern int users_parse_line(stralloc *out, char const *line, size_t len, char const **why);

/* The Maildir of a local user: sa = absolute path ending in '/',
 * NUL-terminated. Tries addr, then addr without a "+detail" in its local
 * part. 1 found, 0 not a user, -1 error (errno). From users.cdb. */
extern int users_maildir(stralloc *sa, char const *addr);

/* The password hash and the Maildir of a user, from passwd.cdb (auth user
 * only). hash may be empty or "!" (cannot log in). Exact address only.
 * 1 found, 0 not a user, -1 error. */
extern int users_password(stralloc *hash, stralloc *maildir, char const *addr);

/* The targets of an alias: appended to sa, each NUL-terminated; *n = count.
 * Tries addr, then addr without "+detail". 1 alias, 0 none, -1 error. */
extern int users_alias(stralloc *sa, size_t *n, char const *addr);

/* Is addr a mailbox or an alias here? (tern-smtpd's RCPT check.)
 * 1 yes, 0 no, -1 error (say 451). */
extern int users_known(char const *addr);

/* The local domains: control/locals (missing: control/me) and the domains of
 * control/virtualdomains ("domain:anything"), lowercased, each NUL-terminated
 * in sa. 1 ok, -1 error. */
extern int users_locals_load(stralloc *sa);

/* Is the domain of addr (after the last '@'; none: yes) one of locals
 * (as loaded above)? Case-insensitive, a trailing dot ignored. */
extern int users_is_local(stralloc const *locals, char const *addr);

/* The same tables in PostgreSQL (users_pg.c; docs/fleet.md), used instead
 * of the cdbs when control/pgsql exists (pgdb.h). */

/* A lookup as in the cdb named table ("users.cdb": the Maildir as written;
 * "passwd.cdb": "hash:maildir"; "aliases.cdb": the targets, each
 * NUL-terminated) for the canonical address key. Rows are checked as users
 * lines are. 1 found, 0 not, -1 error (errno; the server's word is logged). */
extern int users_pg_lookup(char const *table, char const *key, stralloc *val);

/* tern-passwd's edit in the database: op 'a' adds address with hash and
 * maildir, 'c' changes its hash, 'r' removes it. Checked as a users line.
 * 1 ok; 0 refused (*why); -1 error. */
extern int users_pg_edit(char op, char const *address, char const *hash, char const *maildir, char const **why);

/* Loads the users and aliases files into the database in one transaction,
 * replacing what it held (tern-newusers, tern-pgmigrate -u). Same returns
 * and err as users_make. */
extern int users_make_pg(stralloc *err);

/* What users_make_pg writes, one row at a time (inside its transaction):
 * a user (added or replaced), an alias's targets (each NUL-terminated,
 * len bytes in all; they replace the alias's old ones). 1 ok, -1 error. */
extern int users_pg_put(char const *address, char const *hash, char const *maildir);
extern int users_pg_put_alias(char const *address, char const *targets, size_t len);

#endif
