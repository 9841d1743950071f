/* tern-logsum: a summary of an instance's logs (like qmailanalog, pflogsumm).
 *
 * Interface: tern-logsum [-d day] [-s start] [-e end] [-n top] [-m names]
 * [path...]. Reads each path (an s6-log directory: its archives, then
 * current; a file; "-": stdin), or with none every directory under
 * $TERN_HOME/log/, and prints messages received, deliveries by status,
 * refusals by reason, per-service connections, TLS and AUTH, delay
 * percentiles, top senders, recipients and domains, and an hour histogram.
 * Unknown and damaged lines are counted, never fatal. Memory is bounded by
 * -m (names kept per top list) and LOGSUM_PENDING_MAX, not by the log size.
 *
 * SECURITY: runs as whoever calls it, reads logs only, writes only stdout.
 * Log lines carry text from the network (addresses): they are parsed with
 * bounded copies and printed as found, never interpreted.
 */
#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "logread.h"
#include "logsum.h"
#include "logsum_print.h"

#define USAGE "tern-logsum [-d YYYY-MM-DD] [-s start] [-e end] [-n top] [-m names] [path...]"

static int64_t need_time(char const *s)
{
  int64_t t;
  if (!logsum_parsetime(s, &t)) strerr_dief(100, "bad time (YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]): ", s);
  return t;
}

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  logsum s;
  int64_t from = 0, to = 0;
  unsigned int top = 10, names = 100000;
  int e = 0, opt;
  PROG = "tern-logsum";
  while ((opt = subgetopt_r(argc, argv, "d:s:e:n:m:", &l)) != -1)
  {
    switch (opt)
    {
      case 'd': from = need_time(l.arg); to = from + 86400; break;
      case 's': from = need_time(l.arg); break;
      case 'e': to = need_time(l.arg); break;
      case 'n': if (!uint0_scan(l.arg, &top) || top > 1000) strerr_dieusage(100, USAGE); break;
      case 'm': if (!uint0_scan(l.arg, &names) || !names || names > 10000000) strerr_dieusage(100, USAGE); break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  argc -= l.ind;
  argv += l.ind;
  if (!logsum_init(&s, 1, names)) strerr_diefu(111, "allocate the tables");
  s.from = from;
  s.to = to;
  if (!argc)
  {
    if (logread_home(&s) < 0) { strerr_warnwusys("read the logs under ", tern_home(), "/log"); e = 111; }
  }
  else
    for (; *argv; argv++)
      if (logread_path(&s, *argv) < 0) { strerr_warnwusys("read ", *argv); e = 111; }
  logsum_finish(&s);
  if (!logsum_print(buffer_1, &s, top)) strerr_diefusys(111, "write to stdout");
  logsum_free(&s);
  return e;
}
