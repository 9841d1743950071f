/* tern-relaycheck: grants relaying to a client that logged in over POP3
 * recently (POP-before-SMTP), then runs the rest of its command line.
 *
 * Runs in the SMTP chain under tern-tcpserver, before tern-rblsmtpd. When
 * $TCPREMOTEIP has a record younger than RELAY_EXPIRY minutes it sets
 * RELAYCLIENT="" and RBLSMTPD="" (a roaming user skips the blocklists).
 * Stale records are removed: the client's own at once, all of them in a sweep
 * at most once a minute. Any trouble with the directory only means no relay
 * is granted: SMTP service goes on.
 * SECURITY: TCPREMOTEIP is parsed and re-formatted before it names a file. */
#include <time.h>
#include <stdlib.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/exec.h>
#include "relay_db.h"

#define USAGE "tern-relaycheck prog..."
#define SWEEP_EVERY 60

char const *PROG = "tern-relaycheck";

/* 1 when the client may relay. */
static int allowed(void)
{
  char const *ip = getenv("TCPREMOTEIP");
  char name[RELAY_NAME_MAX];
  stralloc dir = STRALLOC_ZERO;
  unsigned int minutes;
  time_t now = time(0);
  int r;
  if (relay_expiry(&minutes) < 0) { strerr_warnwusys("read RELAY_EXPIRY or control/relayexpiry"); return 0; }
  if (!minutes || !ip) return 0;
  if (!relay_name(name, ip)) { strerr_warnw("invalid TCPREMOTEIP: no relay"); return 0; }
  if (relay_dir(&dir) < 0) { strerr_warnwusys("find the relay directory"); return 0; }
  r = relay_fresh(dir.s, name, now, (time_t)minutes * 60);
  if (r < 0) strerr_warnwusys("check ", dir.s, "/", name);
  if (relay_sweep_due(dir.s, now, SWEEP_EVERY) && relay_sweep(dir.s, now, (time_t)minutes * 60) < 0)
    strerr_warnwusys("sweep ", dir.s);
  if (r > 0) strerr_warni("relay granted to ", name, " (POP-before-SMTP)");
  stralloc_free(&dir);
  return r > 0;
}

int main(int argc, char const *const *argv)
{
  if (argc < 2) strerr_dieusage(100, USAGE);
  if (allowed())
    mexec_n(argv + 1, "RELAYCLIENT=\0RBLSMTPD=", 23, 2);
  else
    exec(argv + 1);
  strerr_dieexec(111, argv[1]);
}
