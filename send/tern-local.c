/* tern-local: delivers one queued message to local recipients (Maildir).
 *
 * Interface: `tern-local SENDER RCPT...`, the queue file on fd 0, one
 * K/Z/D record per recipient on fd 1 (lib/report.h). Aliases are expanded
 * here; remote alias targets are queued anew through tern-queue.
 *
 * SECURITY: runs as the local-delivery user that owns the Maildirs
 * (installed setuid to it, runnable by the scheduler's group only). It
 * trusts the queue file and the cdbs; of the message it only reads the
 * header section, for Delivered-To (lib/msghdr.h), and it writes the text
 * in lib/dataenc.h's LF form (NUL dropped, CR a line end) whatever the
 * queue file holds. Set-id, it trusts nothing of its
 * caller's process state (docs/security.md): the home is the compiled one,
 * the environment is emptied, tern-queue is run from the compiled home's
 * bin/ (not through PATH); fds 0-2, the signal mask, SIGXFSZ and the umask
 * are set here. A Maildir, its tmp/ and new/ are opened without following
 * symbolic links and must belong to us (lib/maildir.h). */
#include <stdint.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "queuefile.h"
#include "qinject.h"
#include "report.h"
#include "setid.h"
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

/* What the caller left us that we rely on; set-id, its environment goes. */
static void sanitize(stralloc *queueprog)
{
  int closed = setid_fds(), secure = setid_secure();
  if (closed < 0) strerr_diefusys(111, "open /dev/null on a closed descriptor");
  if ((closed & 3) || !setid_fd_ok(0, 0) || !setid_fd_ok(1, 1))
    strerr_dief(111, "fd 0 (the queue file) and fd 1 (the report) must be open");
  umask(077);
  if (!setid_sigunblock() || !sig_ignore(SIGPIPE) || !sig_ignore(SIGXFSZ))
    strerr_diefusys(111, "set signal handling");
  /* Forwarding runs tern-queue: through PATH a caller could pick it. */
  if (!(secure ? stralloc_cats(queueprog, tern_home()) && stralloc_cats(queueprog, "/bin/tern-queue")
              : stralloc_cats(queueprog, "tern-queue")) || !stralloc_0(queueprog))
    strerr_diefusys(111, "stralloc_catb");
  if (secure && !setid_env_clear()) strerr_diefusys(111, "clear the environment");
}

int main(int argc, char const *const *argv)
{
  localmsg m = { .fd = 0, .header = MSGHDR_ZERO, .locals = STRALLOC_ZERO };
  stralloc env = STRALLOC_ZERO, text = STRALLOC_ZERO, queueprog = STRALLOC_ZERO;
  int i;
  PROG = "tern-local";
  sanitize(&queueprog);
  if (argc < 3) strerr_dieusage(100, USAGE);
  m.sender = argv[1];
  m.queueprog = queueprog.s;
  if (queuefile_read_envelope(0, &env, &m.msglen) <= 0) all_temp(argc - 2, "read the queue file");
  if (local_read_header(&m) < 0) all_temp(argc - 2, "read the message header");
  if (users_locals_load(&m.locals) < 0)
  {
    /* the log names the file in full; the report, which can end up in a
     * bounce, does not show the server's paths */
    stralloc w = STRALLOC_ZERO;
    strerr_warnwusys("read ", control_where(&w, "locals"), " (or virtualdomains, me)");
    all_temp(argc - 2, "read control/locals");
  }
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
