/* tern-remote.c: delivers queued messages to the recipients of one domain over SMTP.
 *
 * Interface (docs/INTERNALS.md):
 *   tern-remote DOMAIN SENDER RCPT...   one message: fd 0 is the committed
 *       queue file; one K/Z/D record per recipient, in argv order, on fd 1.
 *   tern-remote -b                      a batch run (tern-send): fd 0 is a
 *       unix SOCK_SEQPACKET socket on which jobs come, each with its queue
 *       file attached (lib/jobmsg.h); for each, the records on fd 1 (the
 *       slot's job file), then "D ID" on the socket. Messages for the same
 *       destination share one connection (RSET between them); end of file
 *       on the socket ends the run (QUIT).
 * The parts, each calling only those after it: the batch loop
 * (remote_batch.c), one message over the kept connection (remote_deliver.c),
 * the SMTP dialogue (remote_smtp.c, remote_auth.c; lib/dataenc.h), where to
 * connect and with what (remote_cfg.c, remote_mx.c, remote_route.c), the
 * connection (remote_conn.c, remote_tls.c).
 *
 * SECURITY: runs as the remote-delivery user (installed setuid to it,
 * runnable by the scheduler's group only), holding only the queue files it
 * is handed (read-only) and, for a relay with AUTH, its password; it
 * cannot open the queue itself. Set-id, it takes nothing from its caller's
 * environment (the compiled home; no TERN_DNS or TERN_SMTP_PORT, which
 * could send that password to a server of the caller's choosing) and
 * resets fds 0-2, the signal mask and the umask (docs/security.md). Everything from DNS and the remote host is
 * untrusted; the addresses from argv or the queue file are checked before
 * they go into a command line; the records from tern-send are parsed by
 * jobmsg_parse, and a recipient position outside the envelope delivers
 * nothing. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/sig.h>
#include "envelope.h"
#include "queuefile.h"
#include "remote_batch.h"
#include "remote_deliver.h"
#include "setid.h"

char const *PROG = "tern-remote";
#define USAGE "tern-remote domain sender rcpt... | tern-remote -b"

int main(int argc, char const *const *argv)
{
  stralloc env = STRALLOC_ZERO, domain = STRALLOC_ZERO;
  rdel d = RDEL_ZERO;
  uint64_t msglen;
  /* a server that hangs up mid-message is a failed write to report, not a
   * signal that would leave tern-send without our records */
  int closed = setid_fds();
  if (closed < 0) strerr_diefusys(111, "open /dev/null on a closed descriptor");
  if ((closed & 3) || !setid_fd_ok(0, 0) || !setid_fd_ok(1, 1))
    strerr_dief(111, "fd 0 (the queue file or tern-send's socket) and fd 1 (the report) must be open");
  if (setid_secure() && !setid_env_clear()) strerr_diefusys(111, "clear the environment");
  umask(077);
  if (!setid_sigunblock() || sig_ignore(SIGPIPE) < 0) strerr_diefusys(111, "set signal handling");
  if (argc == 2 && !strcmp(argv[1], "-b")) return rbatch_run(0);
  if (argc < 4) strerr_dieusage(100, USAGE);
  if (queuefile_read_envelope(0, &env, &msglen) <= 0) strerr_diefusys(111, "read the queue file on fd 0");
  if (!rdel_domain_norm(&domain, argv[1])) strerr_diefu(111, "allocate");
  {
    /* the DSN parameters of each recipient, found by its address in the
     * queue file's envelope (the first one not yet taken) */
    envelope e = ENVELOPE_ZERO;
    size_t n = (size_t)argc - 3, i, k;
    char const **rp = calloc(n, sizeof *rp);
    char *taken = 0;
    int have = envelope_parse(&e, env.s, env.len, 1) > 0;
    if (!rp || (have && !(taken = calloc(envelope_nrcpt(&e) + 1, 1)))) strerr_diefu(111, "allocate");
    for (i = 0; have && i < n; i++)
      for (k = 0; k < envelope_nrcpt(&e); k++)
        if (!taken[k] && !strcmp(envelope_rcpt(&e, k), argv[3 + i])) { taken[k] = 1; rp[i] = envelope_rparams(&e, k); break; }
    if (!rdel_message(&d, domain.s, argv[2], argv + 3, n, 0, msglen, have ? e.mparams : 0, rp))
      strerr_diefusys(111, "write to stdout");
    free(rp); free(taken);
    envelope_free(&e);
  }
  rdel_end(&d);
  stralloc_free(&env);
  stralloc_free(&domain);
  return 0;
}
