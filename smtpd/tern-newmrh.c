/* tern-newmrh.c: compiles control/morercpthosts into control/morercpthosts.cdb.
 *
 * Each line is a domain or ".domain" (every subdomain), canonicalised as
 * tern-smtpd compares them (lib/addr.h: lowercase, trailing dot dropped,
 * literals in one form). An invalid line stops it with exit 100 and the old
 * cdb stays in place; the new one replaces it atomically (lib/cdbwrite.h).
 * SECURITY: reads and writes only under $TERN_HOME/control. */
#include <string.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "addr.h"
#include "cdbwrite.h"
#include "control.h"

#define USAGE "tern-newmrh"

static void add_line(cdbwrite *w, char const *line, unsigned int lineno)
{
  stralloc key = STRALLOC_ZERO;
  size_t len = strlen(line), dot = line[0] == '.';
  int lit;
  char num[UINT_FMT];
  if (dot && !stralloc_catb(&key, ".", 1))
  { cdbwrite_abort(w); strerr_diefu1sys(111, "allocate"); }
  if (addr_domain(&key, line + dot, len - dot, &lit) || (dot && lit))
  {
    cdbwrite_abort(w);
    num[uint_fmt(num, lineno)] = 0;
    strerr_dief(100, "control/morercpthosts entry ", num, ": not a domain: ", line);
  }
  if (!cdbwrite_add(w, key.s, key.len, "", 0))
  { cdbwrite_abort(w); strerr_diefu1sys(111, "write control/morercpthosts.tmp"); }
  stralloc_free(&key);
}

int main(int argc, char const *const *argv)
{
  stralloc lines = STRALLOC_ZERO, target = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  cdbwrite w = CDBWRITE_ZERO;
  size_t i = 0;
  int n, k;
  PROG = "tern-newmrh";
  if (argc > 1) strerr_dieusage(100, USAGE);
  (void)argv;
  n = control_readlines(&lines, "morercpthosts");
  if (n < 0) control_die(111, "morercpthosts");
  if (!tern_path(&target, "control/morercpthosts.cdb") || !tern_path(&tmp, "control/morercpthosts.tmp"))
    strerr_diefu1sys(111, "allocate");
  if (!cdbwrite_start(&w, target.s, tmp.s, 0644)) strerr_diefu2sys(111, "create ", tmp.s);
  for (k = 0; k < n; k++)
  {
    add_line(&w, lines.s + i, (unsigned int)k + 1);
    i += strlen(lines.s + i) + 1;
  }
  if (!cdbwrite_finish(&w)) strerr_diefu2sys(111, "replace ", target.s);
  stralloc_free(&lines);
  stralloc_free(&target);
  stralloc_free(&tmp);
  return 0;
}
