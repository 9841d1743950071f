/* cdbwrite.h: build a cdb in a temporary file and rename it over its target. */
#ifndef TERN_CDBWRITE_H
#define TERN_CDBWRITE_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/cdbmake.h>

/*
 * Usage:
 *   cdbwrite w = CDBWRITE_ZERO;
 *   if (!cdbwrite_start(&w, "users.cdb", "users.tmp", 0644)) die;
 *   while (...) if (!cdbwrite_add(&w, key, klen, data, dlen)) { cdbwrite_abort(&w); die; }
 *   if (!cdbwrite_finish(&w)) die;          (on failure the tmp file is gone)
 *
 * The target is replaced only by cdbwrite_finish, after the whole table is
 * written, fsync'd and closed, by one rename(2); the directory is then
 * fsync'd too. On any failure before that the old target stays untouched.
 * All functions return 1 on success, 0 on failure with errno set.
 */
typedef struct cdbwrite_s cdbwrite;
struct cdbwrite_s
{
  cdbmaker maker;
  int fd;
  char const *target;
  char const *tmp;
};
#define CDBWRITE_ZERO { .maker = CDBMAKER_ZERO, .fd = -1, .target = 0, .tmp = 0 }

/* Creates (or truncates) tmp with exactly the given mode (umask ignored,
 * symlinks not followed). target and tmp must outlive the cdbwrite and
 * should sit in the same directory (rename does not cross file systems). */
extern int cdbwrite_start(cdbwrite *w, char const *target, char const *tmp, mode_t mode);

/* Adds one record; a key may be added several times (readers find the first). */
extern int cdbwrite_add(cdbwrite *w, char const *key, size_t klen, char const *data, size_t dlen);

/* Writes the index, fsyncs, closes, renames tmp over target, fsyncs the
 * directory. On failure removes tmp and leaves target as it was. */
extern int cdbwrite_finish(cdbwrite *w);

/* Gives up: closes and removes tmp (errno preserved). Safe to call twice. */
extern void cdbwrite_abort(cdbwrite *w);

#endif
