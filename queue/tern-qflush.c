/* tern-qflush: asks tern-send to try every deferred message now (like
 * postqueue -f, or qmail's `svc -a` on qmail-send).
 *
 * Interface: no arguments. Writes the zero ID to queue/trigger, which
 * tern-send reads as "flush" (docs/queue-admin.md); `s6-svc -a` on the
 * send service (SIGALRM) does the same. sendmail -q runs it.
 *
 * SECURITY: runs as its caller; whoever may write queue/trigger (the queue
 * user and group, root) may flush. It reads nothing from the queue. */
#include <errno.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "queuectl.h"

#define USAGE "tern-qflush"

int main(int argc, char const *const *argv)
{
  stralloc q = STRALLOC_ZERO;
  int r;
  PROG = "tern-qflush";
  (void)argv;
  if (argc > 1) strerr_dieusage(100, USAGE);
  queuectl_require();
  if (!tern_path(&q, "queue")) strerr_diefu(111, "allocate");
  r = queuectl_trigger(QUEUEID_FLUSH);
  if (r < 0) strerr_diefusys(111, "write to ", q.s, "/trigger");
  if (!r) strerr_dief(111, "tern-send is not running (no reader on ", q.s, "/trigger): nothing flushed");
  return 0;
}
