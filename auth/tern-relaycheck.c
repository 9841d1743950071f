/* tern-relaycheck: grants relaying to a client that logged in over POP3
 * recently (POP-before-SMTP), then runs the rest of its command line.
 *
 * Runs in the SMTP chain under tern-tcpserver, before tern-rblsmtpd. When
 * $TCPREMOTEIP has a record younger than RELAY_EXPIRY minutes it sets
 * RELAYCLIENT="" and RBLSMTPD="" (a roaming user skips the blocklists).
 * Stale records are removed: the client's own at once, all of them in a sweep
 * at most once a minute. Any trouble with the directory only means no relay
 * is granted: SMTP service goes on.
 * The decision is lib/relay_db.c's relay_check, which tern-smtpd -P makes
 * in-process as a pooled worker (docs/pool.md).
 * SECURITY: TCPREMOTEIP is parsed and re-formatted before it names a file. */
#include <skalibs/strerr.h>
#include <skalibs/exec.h>
#include "relay_db.h"

#define USAGE "tern-relaycheck prog..."

char const *PROG = "tern-relaycheck";

int main(int argc, char const *const *argv)
{
  if (argc < 2) strerr_dieusage(100, USAGE);
  if (relay_check())
    mexec_n(argv + 1, "RELAYCLIENT=\0RBLSMTPD=", 23, 2);
  else
    exec(argv + 1);
  strerr_dieexec(111, argv[1]);
}
