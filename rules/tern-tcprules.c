/* tern-tcprules: compile the tcprules text format into a rules cdb, atomically.
 *
 * Interface: tcprules' (tern-tcprules rules.cdb rules.tmp < rules), see
 * docs/tern-tcprules.8 and docs/rules.md for the forms and the cdb layout.
 *
 * SECURITY: the rules decide who may relay. A catch-all or very wide rule
 * that sets RELAYCLIENT is refused without -w; any bad line leaves the old
 * cdb in place (lib/cdbwrite renames only a complete, fsync'd table).
 */
#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "cdbwrite.h"
#include "rules_parse.h"
#include "rules_compile.h"

#define USAGE "tern-tcprules [ -w ] [ -m maxline ] rules.cdb rules.tmp < rules"

char const *PROG = "tern-tcprules";

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  unsigned int flags = 0, maxline = RULES_LINE_MAX;
  cdbwrite w = CDBWRITE_ZERO;
  long bad;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "wm:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 'w': flags |= RULES_WIDE_OK; break;
      case 'm': if (!uint0_scan(l.arg, &maxline) || !maxline || maxline > RULES_LINE_MAX) strerr_dieusage(100, USAGE); break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  argc -= l.ind; argv += l.ind;
  if (argc != 2) strerr_dieusage(100, USAGE);

  if (!cdbwrite_start(&w, argv[0], argv[1], 0644)) strerr_diefusys(111, "create ", argv[1]);
  bad = rules_compile(buffer_0, &w, maxline, flags);
  if (bad)
  {
    char fmt[ULONG_FMT];
    cdbwrite_abort(&w);
    if (bad < 0) strerr_diefusys(111, "compile rules into ", argv[1]);
    fmt[ulong_fmt(fmt, (unsigned long)bad)] = 0;
    strerr_dief(100, fmt, " bad line(s): ", argv[0], " left unchanged");
  }
  if (!cdbwrite_finish(&w)) strerr_diefusys(111, "replace ", argv[0], " with ", argv[1]);
  return 0;
}
