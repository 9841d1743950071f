/* tern-rblsmtpd.c: refuses SMTP clients listed in DNS blocklists before they reach tern-smtpd.
 *
 * Interface: rblsmtpd's. Runs under tern-tcpserver with the client on fds
 * 0/1 and TCPREMOTEIP set; decides from RBLSMTPD or from DNS (all lists at
 * once, bounded by -t), logs one line, then either execs the rest of its
 * command line or holds a refusing SMTP dialogue itself.
 *
 * The decision is rbl_check.c's, which tern-smtpd also makes in-process
 * as a pooled worker (docs/pool.md).
 *
 * SECURITY: runs as the SMTP user and holds nothing secret. DNS answers and
 * client bytes are untrusted: texts are cleaned (rbl_lookup.h), the dialogue
 * is bounded in line length and total time (rbl_dialog.h). */
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/exec.h>
#include <string.h>
#include "rbl_check.h"

#define USAGE "tern-rblsmtpd [ -b | -B ] [ -c | -C ] [ -t secs ] [ -s secs ] [ -l maxline ] [ -r base ] [ -a base ] prog..."
#define dieusage() strerr_dieusage(100, USAGE)

static char const *const *parse_options(rbl_conf *c, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    char const *why;
    int opt = subgetopt_r(argc, argv, "bBcCt:s:l:r:a:", &l);
    if (opt == -1) break;
    switch (rbl_conf_option(c, opt, l.arg, &why))
    {
      case 1: break;
      case 0: if (strcmp(why, "bad value")) strerr_dief(100, why); dieusage();
      default: dieusage();
    }
  }
  if (l.ind >= argc) dieusage();
  return argv + l.ind;
}

int main(int argc, char const *const *argv)
{
  rbl_conf c;
  char const *const *prog;
  PROG = "tern-rblsmtpd";
  rbl_conf_init(&c);
  prog = parse_options(&c, argc, argv);
  if (rbl_check(&c, 0, 1)) xexec(prog);
  return 0;
}
