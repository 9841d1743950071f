/* tern-relayallow: in a checkpassword chain, after a good POP3 login, asks
 * the mailbox program to grant POP-before-SMTP once the session is
 * established (or, with -n, records the grant at once), then runs the rest
 * of its command line.
 *
 * Runs in the checkpassword chain (tern-pop3d tern-checkpassword
 * tern-relayallow tern-pop3d -m), as the user the checkpassword program
 * switched to. A login is not yet a session: the Maildir may be missing or
 * unreadable, and then nobody should gain relaying. So by default it only
 * sets TERN_RELAYALLOW=1, and tern-pop3d -m records $TCPREMOTEIP after it
 * has opened the Maildir and answered the PASS with +OK. -n is for mailbox
 * programs that cannot do that (qmail-pop3d and friends): the record is
 * written at login, as tern-relayallow always did.
 * SECURITY: TCPREMOTEIP is parsed and re-formatted before it names a file
 * (lib/relay_db.c); a record it cannot write costs relaying, not mail. */
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/exec.h>
#include "relay_db.h"

#define USAGE "tern-relayallow [ -n ] prog..."

char const *PROG = "tern-relayallow";

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  int now = 0;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "n", &l);
    if (opt == -1) break;
    if (opt == 'n') now = 1;
    else strerr_dieusage(100, USAGE);
  }
  argv += l.ind;
  if (!*argv) strerr_dieusage(100, USAGE);
  if (now)
  {
    relay_grant();
    exec(argv);
  }
  else
    mexec_n(argv, RELAY_GRANT_ENV "=1", sizeof RELAY_GRANT_ENV "=1", 1);
  strerr_dieexec(111, argv[0]);
}
