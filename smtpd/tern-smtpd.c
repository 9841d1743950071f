/* tern-smtpd.c: the SMTP server: one session with the client on fds 0/1.
 *
 * Runs under tern-tcpserver (TCPREMOTEIP, TCPREMOTEHOST, RELAYCLIENT,
 * DATABYTES, GREETDELAY from the rules; TERN_STRESS from the launcher),
 * reads $TERN_HOME/control, speaks RFC 5321 and hands each message to
 * the resident queue writer when its socket answers ($TERN_HOME/queued/
 * socket), else to tern-queue; always to $TERNQUEUE when that is set.
 * SECURITY: holds no secret and cannot write the queue except through the
 * queue writer or the queue program; every client byte goes through a bounded parser
 * (smtp_io.c, smtp_cmd.c, lib/addr.c, smtp_data.c). docs/smtpd.md. */
#include <signal.h>
#include <stdlib.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/buffer.h>
#include <skalibs/types.h>
#include "smtp_auth.h"
#include "smtp_conf.h"
#include "smtp_queue.h"
#include "smtp_relay.h"
#include "smtp_session.h"

#define USAGE "tern-smtpd [-s] [-p] [checkpassword-program args...]"

/* Configuration trouble: the client gets a temporary refusal, we a log line. */
static void die_conf(char const *what)
{
  buffer_putsflush(buffer_1, "421 4.3.5 Server configuration error; try again later\r\n");
  strerr_diefusys(111, "read control/", what);
}

/* The launcher is short of slots: say which timeout this session gets. */
static void log_stress(smtp_conf const *c, char const *ip)
{
  char t[UINT_FMT], n[UINT_FMT];
  t[uint_fmt(t, c->timeout)] = 0;
  n[uint_fmt(n, c->timeoutnormal)] = 0;
  char const *v[7] = { " ip=", ip, " stress: timeout ", t, " s (timeoutsmtpdstress; normally ", n, " s)" };
  smtp_log(v, 7);
}

int main(int argc, char const *const *argv)
{
  smtp_conf conf = SMTP_CONF_ZERO;
  relay rel = RELAY_ZERO;
  smtp_auth auth = SMTP_AUTH_ZERO;
  smtp_session s;
  stralloc qprog = STRALLOC_ZERO;
  stralloc qsock = STRALLOC_ZERO;
  char const *what;
  subgetopt l = SUBGETOPT_ZERO;
  PROG = "tern-smtpd";
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "sp", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 's': auth.submission = 1; break;   /* MAIL needs AUTH first */
      case 'p': auth.plaintext = 1; break;    /* AUTH without TLS, e.g. on loopback */
      default: strerr_dieusage(100, USAGE);
    }
  }
  if (l.ind < argc) auth.checkprog = argv + l.ind;
  if (auth.submission && !auth.checkprog) strerr_dieusage(100, USAGE);
  sig_ignore(SIGPIPE);
  if (!smtp_conf_load(&conf, &what)) die_conf(what);
  if (!relay_load(&rel)) die_conf("rcpthosts");
  if (!smtp_queue_prog(&qprog)) die_conf("(queue program path)");
  if (!smtp_queue_socket(&qsock)) die_conf("(queue writer path)");
  smtp_session_init(&s, &conf, &rel, qprog.s);
  if (qsock.len) s.queuesock = qsock.s;
  s.remoteip = getenv("TCPREMOTEIP") ? getenv("TCPREMOTEIP") : "unknown";
  s.remotehost = getenv("TCPREMOTEHOST");
  s.relayclient = getenv("RELAYCLIENT");
  if (!smtp_auth_init(&auth, &s)) strerr_diefu1sys(111, "stralloc_catb");
  if (conf.stress) log_stress(&conf, s.remoteip);
  if (!rel.have_rcpthosts)
    strerr_warnw("control/rcpthosts is missing or empty: relaying is refused for every domain");
  smtp_session_run(&s);
  smtp_session_free(&s);
  relay_free(&rel);
  stralloc_free(&qprog);
  stralloc_free(&qsock);
  stralloc_free(&conf.me);
  stralloc_free(&conf.greeting);
  return 0;
}
