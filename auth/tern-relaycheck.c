/* tern-relaycheck: grants relaying to a client that logged in over POP3
 * recently (POP-before-SMTP), then runs the rest of its command line.
 *
 * Runs in the SMTP chain under tern-tcpserver, before tern-rblsmtpd. When
 * $TCPREMOTEIP has a record younger than RELAY_EXPIRY minutes it sets
 * RELAYCLIENT="" and RBLSMTPD="" (a roaming user skips the blocklists).
 * Stale records are removed: the client's own at once, all of them in a sweep
 * at most once a minute. With control/pgsql the records are rows of the
 * shared table instead (docs/fleet.md). Any trouble with the directory or
 * the database only means no relay is granted (fail closed): SMTP service
 * goes on. The decision is relay_check() in lib/relay_db.c, which tern-smtpd -P
 * makes in-process as a pooled worker (docs/pool.md).
 * SECURITY: TCPREMOTEIP is parsed and re-formatted before it names a file. */
#include <time.h>
#include <stdlib.h>
#include <skalibs/strerr.h>
#include <skalibs/exec.h>
#include "pgdb.h"
#include "relay_db.h"

#define USAGE "tern-relaycheck prog..."

char const *PROG = "tern-relaycheck";

int main(int argc, char const *const *argv)
{
  if (argc < 2) strerr_dieusage(100, USAGE);
  int ok = relay_check(getenv("TCPREMOTEIP"), time(0));
  pgdb_close();
  if (ok)
    mexec_n(argv + 1, "RELAYCLIENT=\0RBLSMTPD=", 23, 2);
  else
    exec(argv + 1);
  strerr_dieexec(111, argv[1]);
}
