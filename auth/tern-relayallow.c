/* tern-relayallow: after a good POP3 login, records $TCPREMOTEIP for
 * POP-before-SMTP, then runs the rest of its command line.
 *
 * Runs in the checkpassword chain (tern-pop3d tern-checkpassword
 * tern-relayallow tern-pop3d -m), as the user the checkpassword program
 * switched to. A record it cannot write costs the user relaying, not their
 * mail: it warns and goes on.
 * SECURITY: TCPREMOTEIP is parsed and re-formatted before it names a file. */
#include <stdlib.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/exec.h>
#include "relay_db.h"

#define USAGE "tern-relayallow prog..."

char const *PROG = "tern-relayallow";

static void record(void)
{
  char const *ip = getenv("TCPREMOTEIP");
  char name[RELAY_NAME_MAX];
  stralloc dir = STRALLOC_ZERO;
  if (!ip) { strerr_warnw("TCPREMOTEIP not set: nothing recorded"); return; }
  if (!relay_name(name, ip)) { strerr_warnw("invalid TCPREMOTEIP: nothing recorded"); return; }
  if (relay_dir(&dir) < 0) { strerr_warnwusys("find the relay directory"); return; }
  if (relay_record(dir.s, name) < 0)
    strerr_warnwusys("record ", name, " in ", dir.s);
  else
    strerr_warni("relay allowed for ", name);
  stralloc_free(&dir);
}

int main(int argc, char const *const *argv)
{
  if (argc < 2) strerr_dieusage(100, USAGE);
  record();
  exec(argv + 1);
  strerr_dieexec(111, argv[1]);
}
