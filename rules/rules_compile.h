/* rules_compile.h: a whole tcprules text into a cdb, with per-line errors. */
#ifndef TERN_RULES_COMPILE_H
#define TERN_RULES_COMPILE_H

#include <skalibs/buffer.h>
#include "cdbwrite.h"

/* Keys beside libs6's, under "tern/" (libs6 never looks them up):
 * tern/hostrules  present when some rule names hosts (tern-tcpserver then
 *                 knows a reverse lookup can matter);
 * tern/src/KEY    "LINE:TEXT", the source line that KEY came from. */
#define RULES_META_HOSTRULES "tern/hostrules"
#define RULES_META_SRC "tern/src/"

/* Options for rules_compile. */
#define RULES_WIDE_OK 1   /* accept catch-all rules that set RELAYCLIENT */

/* Reads rules from in and adds them to w. Each bad line is reported on
 * stderr as "PROG: line N: reason"; lines longer than maxline are bad.
 * Returns the number of bad lines (0: w may be finished), or -1 on a read
 * or write error (errno set). */
extern long rules_compile(buffer *in, cdbwrite *w, size_t maxline, unsigned int flags);

#endif
