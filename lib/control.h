/* control.h: where the instance lives and how its control files are read. */
#ifndef TERN_CONTROL_H
#define TERN_CONTROL_H

#include <stddef.h>
#include <skalibs/gccattributes.h>
#include <skalibs/stralloc.h>

/* $TERN_HOME, or the compiled default from conf-home; always the compiled
 * default in a set-id program (setid_secure()). */
extern char const *tern_home(void);

/* sa = $TERN_HOME/NAME, NUL-terminated. 1 ok, 0 out of memory. */
extern int tern_path(stralloc *sa, char const *name);

/* $TERN_HOME/control/NAME in sa, NUL-terminated, for a message that must
 * say which file it means (an admin with several instances, or none where
 * the program looked, needs the whole path). Returns sa->s; NAME itself
 * when out of memory. Leaves errno as it was. */
extern char const *control_where(stralloc *sa, char const *name);

/* Exits with code: "unable to read $TERN_HOME/control/NAME: <errno text>". */
extern void control_die(int code, char const *name) gccattr_noreturn;

/* The first line of control/NAME, trimmed of surrounding blanks and CR,
 * NUL-terminated in sa. 1 read, 0 file missing (sa left empty), -1 error
 * (errno set). */
extern int control_readline(stralloc *sa, char const *name);

/* Every line of control/NAME that is not blank and does not start with '#',
 * trimmed, each NUL-terminated, appended one after another in sa.
 * Returns the number of lines (0 when the file is missing), -1 on error. */
extern int control_readlines(stralloc *sa, char const *name);

/* An unsigned number from the first line of control/NAME. A missing file
 * gives def. 1 ok (value in *u), -1 on error or when the line is not a number
 * (errno EINVAL). */
extern int control_readuint(unsigned int *u, char const *name, unsigned int def);

/* Same, reading a whole file at PATH (used for files outside control/). */
extern int control_readlines_path(stralloc *sa, char const *path);

/* Appends to sa a fingerprint of control/NAME (device, inode, size, mtime
 * and ctime to the nanosecond; all zero when it is absent), so that a
 * long-running program notices an edit with one stat. 1 ok, 0 out of memory. */
extern int control_stamp(stralloc *sa, char const *name);

#endif
