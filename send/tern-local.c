/* tern-local: delivers one queued message to local recipients (Maildir).
 *
 * Interface: `tern-local SENDER RCPT...`, the queue file on fd 0, one
 * K/Z/D record per recipient on fd 1 (lib/report.h). Aliases are expanded
 * here; remote alias targets are queued anew through tern-queue.
 *
 * SECURITY: runs as the local-delivery user that owns the Maildirs. It
 * trusts the queue file and the cdbs; of the message it only reads the
 * header section, for Delivered-To (lib/msghdr.h), and it writes the text
 * in lib/dataenc.h's LF form (NUL dropped, CR a line end) whatever the
 * queue file holds. */
#include <stdint.h>
#include <signal.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include "queuefile.h"
#include "qinject.h"
#include "report.h"
#include "users.h"
#include "local.h"

#define USAGE "tern-local sender rcpt..."

/* Every recipient gets the same temporary failure. */
static void all_temp(int n, char const *why)
{
  for (; n > 0; n--) report_put(buffer_1, 'Z', why);
  if (!buffer_flush(buffer_1)) strerr_diefusys(111, "write to tern-send");
  strerr_warnwu(why);
  _exit(0);
}

int main(int argc, char const *const *argv)
{
  localmsg m = { .fd = 0, .header = MSGHDR_ZERO, .locals = STRALLOC_ZERO };
  stralloc env = STRALLOC_ZERO, text = STRALLOC_ZERO;
  int i;
  PROG = "tern-local";
  if (argc < 3) strerr_dieusage(100, USAGE);
  sig_ignore(SIGPIPE);
  m.sender = argv[1];
  m.queueprog = "tern-queue";
  if (queuefile_read_envelope(0, &env, &m.msglen) <= 0) all_temp(argc - 2, "read the queue file");
  if (local_read_header(&m) < 0) all_temp(argc - 2, "read the message header");
  if (users_locals_load(&m.locals) < 0) all_temp(argc - 2, "read control/locals");
  for (i = 2; i < argc; i++)
  {
    char st = local_deliver(&m, argv[i], &text);
    /* each result out as soon as it is known: a kill later in the run
     * then repeats no delivery already reported */
    if (!report_put(buffer_1, st, text.len ? text.s : "") || !buffer_flush(buffer_1))
      strerr_diefusys(111, "write to tern-send");
  }
  return 0;
}
