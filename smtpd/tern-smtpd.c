/* tern-smtpd.c: the SMTP server: one session with the client on fds 0/1,
 * or, as a pooled worker (tern-tcpserver -w, docs/pool.md), session after
 * session with nothing carried from one to the next.
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
#include <string.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/buffer.h>
#include <skalibs/types.h>
#include "smtp_auth.h"
#include "smtp_bad.h"
#include "smtp_conf.h"
#include "smtp_log.h"
#include "smtp_queue.h"
#include "smtp_relay.h"
#include "smtp_session.h"
#include "smtp_starttls.h"
#include "pool.h"
#include "relay_db.h"
#include "rbl_check.h"
#include "control.h"

#define USAGE "tern-smtpd [ -s ] [ -p ] [ -P ] [ -b | -B ] [ -c | -C ] [ -t secs ] [ -T secs ] [ -l maxline ] [ -r base ] [ -a base ] [ checkpassword-program args... ]"

/* Configuration trouble: the client gets a temporary refusal, we a log line. */
static void die_conf(char const *what)
{
  buffer_putsflush(buffer_1, "421 4.3.5 Server configuration error; try again later\r\n");
  control_die(111, what);
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

typedef struct smtpd_s smtpd;
struct smtpd_s
{
  smtp_conf conf;
  relay rel;
  smtp_bad bad;            /* badmailfrom, badrcptto */
  smtp_auth auth;
  smtp_tls tls;
  stralloc qprog;
  int qprogself;           /* qprog is our own tern-queue (no $TERNQUEUE) */
  stralloc qsock;          /* tern-queued's socket, or empty: tern-queue */
  stralloc stamp;          /* the control files as last read (smtp_conf_stamp) */
  stralloc scratch;        /* smtp_conf_same's */
  int loaded;
  int popcheck;            /* -P: tern-relaycheck's decision, in-process */
  rbl_conf rbl;            /* -r, -a, ...: tern-rblsmtpd's, in-process */
  poolworker *w;           /* sessions' environments (lib/pool.h) */
};

/* The control files: read once, and again in a pooled worker when any of
 * them changed since: control/ and the files that were there are stat'ed
 * per session (smtp_conf_same), all of them when control/ changed. */
static void load(smtpd *d)
{
  stralloc now = STRALLOC_ZERO;
  char const *what;
  int same = d->loaded ? smtp_conf_same(&d->stamp, &d->scratch) : 0;
  if (same < 0) die_conf("(out of memory)");
  if (same)
  {
    if (!smtp_conf_env(&d->conf, &what)) die_conf(what);
    return;
  }
  /* stamped before reading: a change made while we read is seen next time */
  if (!smtp_conf_stamp(&now)) die_conf("(out of memory)");
  stralloc_free(&d->stamp);
  d->stamp = now;
  if (d->loaded) { relay_free(&d->rel); smtp_bad_free(&d->bad); }
  if (!smtp_conf_load(&d->conf, &what)) die_conf(what);
  if (!relay_load(&d->rel)) die_conf("rcpthosts");
  if (!smtp_bad_load(&d->bad, &what)) die_conf(what);
  d->loaded = 1;
  if (!d->rel.have_rcpthosts)
    strerr_warnw("control/rcpthosts is missing or empty: relaying is refused for every domain");
}

/* One session on fds 0 and 1, its environment in environ. Nothing of it
 * outlives it: the session and the AUTH state start from zero, the
 * environment's settings are read again. */
static void serve(smtpd *d)
{
  smtp_session s;
  /* what tern-relaycheck and tern-rblsmtpd would do before the exec of
   * tern-smtpd, in the same order and with the same environment after */
  if (d->popcheck && relay_check(getenv("TCPREMOTEIP"), time(0)))
    if (poolworker_setenv(d->w, "RELAYCLIENT", "") < 0 || poolworker_setenv(d->w, "RBLSMTPD", "") < 0)
      strerr_diefusys(111, "set RELAYCLIENT");
  if (d->rbl.nlists && !rbl_check(&d->rbl, 0, 1)) return;
  load(d);
  /* per connection: the rules may name a content filter ($TERNQUEUE) */
  {
    /* our own tern-queue's path comes from readlink /proc/self/exe (5% of
     * a pooled worker's CPU when done per session): once per worker */
    char const *x = getenv("TERNQUEUE");
    int self = !x || !*x;
    if (!(self && d->qprogself))
    {
      if (!smtp_queue_prog(&d->qprog)) die_conf("(queue program path)");
      d->qprogself = self;
    }
  }
  if (!smtp_queue_socket(&d->qsock)) die_conf("(queue writer path)");
  smtp_session_init(&s, &d->conf, &d->rel, d->qprog.s);
  if (d->qsock.len) s.conn.queuesock = d->qsock.s;
  s.conn.remoteip = getenv("TCPREMOTEIP") ? getenv("TCPREMOTEIP") : "unknown";
  s.conn.remotehost = getenv("TCPREMOTEHOST");
  s.conn.relayclient = getenv("RELAYCLIENT");
  s.conn.bad = &d->bad;
  smtp_auth_init(&d->auth);
  if (!smtp_tls_init(&d->tls)) strerr_diefu1sys(111, "stralloc_catb");
  smtp_session_parts(&s, &d->auth, &d->tls);
  if (d->conf.stress) log_stress(&d->conf, s.conn.remoteip);
  smtp_session_run(&s);
  smtp_tls_end(&d->tls);
  smtp_session_free(&s);
}

int main(int argc, char const *const *argv)
{
  smtpd d = { .conf = SMTP_CONF_ZERO, .rel = RELAY_ZERO, .bad = SMTP_BAD_ZERO, .auth = SMTP_AUTH_ZERO, .tls = SMTP_TLS_ZERO, .qprog = STRALLOC_ZERO, .qprogself = 0, .qsock = STRALLOC_ZERO, .stamp = STRALLOC_ZERO, .scratch = STRALLOC_ZERO, .loaded = 0, .popcheck = 0 };
  poolworker w = POOLWORKER_ZERO;
  subgetopt l = SUBGETOPT_ZERO;
  int r;
  PROG = "tern-smtpd";
  d.w = &w;
  rbl_conf_init(&d.rbl);
  for (;;)
  {
    char const *why;
    int opt = subgetopt_r(argc, argv, "spPbBcCt:T:l:r:a:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 's': d.auth.submission = 1; break;   /* MAIL needs AUTH first */
      case 'p': d.auth.plaintext = 1; break;    /* AUTH without TLS, e.g. on loopback */
      case 'P': d.popcheck = 1; break;          /* POP-before-SMTP, as tern-relaycheck */
      default:
        /* tern-rblsmtpd's options; its -s (the time under stress) is -T here */
        if (rbl_conf_option(&d.rbl, opt == 'T' ? 's' : opt, l.arg, &why) <= 0) strerr_dieusage(100, USAGE);
    }
  }
  if (l.ind < argc) d.auth.checkprog = argv + l.ind;
  if (d.auth.submission && !d.auth.checkprog) strerr_dieusage(100, USAGE);
  sig_ignore(SIGPIPE);
  r = poolworker_init(&w);
  if (r < 0) strerr_diefusys(111, "set up as a pool worker");
  if (!r) { serve(&d); return 0; }
  /* pool mode (tern-tcpserver -w): session after session */
  while ((r = poolworker_next(&w)) > 0) serve(&d);
  if (r < 0) strerr_diefusys(111, "read the launcher's record");
  return 0;
}
