/* tern-pop3d: a POP3 server over Maildirs, in two parts (qmail-popup and
 * qmail-pop3d in one program).
 *
 *   tern-pop3d [options] CHECKPASSWORD prog...   the auth part, as the
 *       network user: greeting, CAPA, STLS, USER/PASS; runs CHECKPASSWORD
 *       (checkpassword interface, fd 3) for each login.
 *   tern-pop3d -m [options] [MAILDIR]            the mailbox part, run at the
 *       end of the checkpassword chain as the user.
 *
 * SECURITY: the auth part holds no secret and touches no mailbox; the
 * mailbox part trusts only its environment (set by the checkpassword
 * program) and the Maildir it is pointed at. */
#include <stdlib.h>
#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include "pop3.h"
#include "pop3_where.h"
#include "stress.h"

#define USAGE "tern-pop3d [-P] [-t secs] [-s secs] [-l len] [-e errors] [-f fails] [-d secs] checkpassword prog... | tern-pop3d -m [-t secs] [-l len] [-e errors] [-n msgs] [maildir]"

char const *PROG = "tern-pop3d";

static unsigned int number(char const *s, unsigned int min, unsigned int max)
{
  unsigned int u;
  if (!pop3_number(s, &u) || u < min || u > max) strerr_dieusage(100, USAGE);
  return u;
}

int main(int argc, char const *const *argv)
{
  pop3_authopts o = { .lim = POP3_LIMITS_DEFAULT, .plaintext = 0, .cp = 0 };
  int mailbox = 0;
  unsigned int stresssecs = STRESS_TIMEOUT_DEFAULT;
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "mPt:s:l:e:f:n:d:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 'm': mailbox = 1; break;
      case 'P': o.plaintext = 1; break;
      case 't': o.lim.timeout = number(l.arg, 1, 86400); break;
      case 's': stresssecs = number(l.arg, 1, 86400); break;
      case 'l': o.lim.linemax = number(l.arg, 16, POP3_LINE_MAX); break;
      case 'e': o.lim.errors = number(l.arg, 1, 1000); break;
      case 'f': o.lim.fails = number(l.arg, 1, 1000); break;
      case 'd': o.lim.delay = number(l.arg, 0, 60); break;
      case 'n': o.lim.msgs = number(l.arg, 1, 10000000); break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  argc -= l.ind; argv += l.ind;
  if (mailbox)
  {
    stralloc md = STRALLOC_ZERO;
    if (argc > 1) strerr_dieusage(100, USAGE);
    if (!pop3_where(&md, argc ? argv[0] : 0)) strerr_diefu(111, "find the Maildir: set HOME, MAILDIR or USER");
    mailbox = pop3_mbox_run(&o.lim, md.s);
    stralloc_free(&md);
    return mailbox;
  }
  if (!argc) strerr_dieusage(100, USAGE);
  o.cp = argv;
  /* Under stress a stranger who has not logged in gets seconds, not
   * minutes; a user who has keeps -m's own timeout. */
  o.lim.timeout = stress_timeout(o.lim.timeout, stresssecs);
  return pop3_auth_run(&o);
}
