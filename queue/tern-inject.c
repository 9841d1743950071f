/* tern-inject: queues a message from a local program; also answers as sendmail.
 *
 * Interface: the message on fd 0; recipients as arguments and/or (-t) from
 * To/Cc/Bcc; Date, Message-ID, From added when missing; queued through
 * $TERNQUEUE, else the program named in control/injectqueue (tern-setup
 * names tern-dkimsign), else tern-queue; with TERN_AUTHUSER set to the
 * caller's login name (the kernel vouches for it: docs/dkim.md). Exit 0,
 * 100 permanent, 111 temporary.
 *
 * SECURITY: runs as the calling user and writes the queue only through
 * tern-queue. Addresses with blanks or controls are refused; values it puts
 * in headers have controls replaced; a message holding a NUL is refused.
 * Input size: control/databytes. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "control.h"
#include "envelope.h"
#include "qinject.h"
#include "inject.h"

#define USAGE "tern-inject [ -t ] [ -i ] [ -f sender ] [ -F fullname ] [ rcpt ... ]"

typedef struct opts_s opts;
struct opts_s { int t; char const *from; char const *fullname; };

static void parse_opts(opts *o, int *argc, char const *const **argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    int opt = subgetopt_r(*argc, *argv, "tif:r:F:o:b:B:N:R:V:h:L:X:q:vmUeG", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 't': o->t = 1; break;
      case 'f': case 'r': o->from = l.arg; break;
      case 'F': o->fullname = l.arg; break;
      case 'b':
        if (!strcmp(l.arg, "p")) { char const *a[2] = { "tern-qread", 0 }; xexec(a); }
        if (strcmp(l.arg, "m")) strerr_dief(100, "only -bm and -bp are supported");
        break;
      /* sendmail options with no meaning here (-i: a lone dot never ends input) */
      default:
        if (strchr("ioBNRVhLXqvmUeG", opt)) break;
        strerr_dieusage(100, USAGE);
    }
  }
  *argc -= l.ind;
  *argv += l.ind;
}

/* The default sender: the login name at the host bare names get. */
static void default_sender(stralloc *sa, char const *me)
{
  char const *user = getenv("LOGNAME");
  if (!user || !*user) user = getenv("USER");
  if (!user || !*user)
  {
    struct passwd *pw = getpwuid(getuid());
    user = pw ? pw->pw_name : "nobody";
  }
  if (!stralloc_cats(sa, user) || !stralloc_catb(sa, "@", 1) || !stralloc_cats(sa, me) || !stralloc_0(sa))
    strerr_diefu(111, "allocate");
}

/* Adds addr to the envelope, qualified as qmail-inject does (inject_host.c). */
static void add_rcpt(stralloc *env, char const *addr, injhost const *h, size_t *n)
{
  stralloc q = STRALLOC_ZERO;
  size_t i, len = strlen(addr);
  if (!len) return;
  for (i = 0; i < len; i++)
    if ((unsigned char)addr[i] <= 32 || addr[i] == 127) strerr_dief(100, "bad recipient address: ", addr);
  if (len > ENVELOPE_ADDR_MAX) strerr_dief(100, "recipient address too long");
  if (!inject_qualify(&q, addr, h)) strerr_diefu(111, "allocate");
  if (q.len - 1 > ENVELOPE_ADDR_MAX) strerr_dief(100, "recipient address too long");
  if (!envelope_add_rcpt(env, q.s)) strerr_diefu(111, "allocate");
  stralloc_free(&q);
  ++*n;
}

/* Reads the message on fd 0; more than max bytes (0: no limit) ends
 * tern-inject with 100, before it has queued anything. */
static void read_message(stralloc *sa, unsigned int max)
{
  for (;;)
  {
    ssize_t r;
    if (!stralloc_readyplus(sa, 65536)) strerr_diefu(111, "allocate");
    r = fd_read(0, sa->s + sa->len, 65536);
    if (r < 0) strerr_diefusys(111, "read the message");
    if (!r) return;
    sa->len += (size_t)r;
    if (max && sa->len > max) strerr_dief(100, "message larger than control/databytes");
  }
}

/* $TERNQUEUE, else control/injectqueue, else tern-queue: a name is looked
 * up in PATH, our own directory first. The control file lets the instance
 * put a filter (tern-dkimsign) before the queue for local mail too, since
 * nobody sets the environment of cron or of a script's sendmail. */
static void queue_prog(stralloc *sa)
{
  char const *q = getenv("TERNQUEUE");
  if (q && *q) { if (stralloc_cats(sa, q) && stralloc_0(sa)) return; strerr_diefu(111, "allocate"); }
  if (control_readline(sa, "injectqueue") < 0) control_die(111, "injectqueue");
  if (sa->len > 1) return;
  sa->len = 0;
  if (!stralloc_cats(sa, "tern-queue") || !stralloc_0(sa)) strerr_diefu(111, "allocate");
}

/* Who queues: the login name of our real uid, for the queue program's log
 * and its trust (a local user is an authenticated one). */
static void set_authuser(void)
{
  struct passwd *pw = getpwuid(getuid());
  char num[UINT_FMT];
  char const *name = pw ? pw->pw_name : 0;
  if (!name) { num[uint_fmt(num, (unsigned int)getuid())] = 0; name = num; }
  if (setenv("TERN_AUTHUSER", name, 1) < 0) strerr_diefusys(111, "set TERN_AUTHUSER");
}

typedef struct out_s out;
struct out_s { stralloc *head; char const *body; size_t blen; };

static int put(int fd, void *data)
{
  out *o = data;
  return allwrite(fd, o->head->s, o->head->len) == o->head->len && allwrite(fd, o->body, o->blen) == o->blen;
}

int main(int argc, char const *const *argv)
{
  opts o = { 0, 0, 0 };
  stralloc from = STRALLOC_ZERO, in = STRALLOC_ZERO, env = STRALLOC_ZERO, head = STRALLOC_ZERO;
  stralloc qprog = STRALLOC_ZERO;
  injhost hosts = INJHOST_ZERO;
  injmsg m = { .rcpts = STRALLOC_ZERO, .header = STRALLOC_ZERO };
  char const *base = strrchr(argv[0], '/');
  size_t nr = 0, i;
  int code;
  unsigned int maxbytes;
  out ob;
  PROG = "tern-inject";
  base = base ? base + 1 : argv[0];
  if (!strcmp(base, "mailq")) { char const *a[2] = { "tern-qread", 0 }; xexec(a); }
  if (qinject_path_self(argv[0]) < 0) strerr_diefusys(111, "set PATH");
  /* sendmail -q (and -q30m, as cron and init scripts say it): flush now */
  if (argc > 1 && !strncmp(argv[1], "-q", 2)) { char const *a[2] = { "tern-qflush", 0 }; xexec(a); }
  parse_opts(&o, &argc, &argv);
  sig_ignore(SIGPIPE);
  /* Bare names: control/defaulthost, defaultdomain, plusdomain, me */
  {
    char const *what;
    if (!inject_host_load(&hosts, &what))
    {
      if (errno) control_die(111, what);
      strerr_dief(111, "control/me is missing and neither defaulthost nor defaultdomain is set: no name for bare addresses");
    }
  }
  if (o.from)
  {
    size_t n = strlen(o.from);
    if (!strcmp(o.from, "<>")) n = 0;
    if (n > ENVELOPE_ADDR_MAX || !stralloc_catb(&from, o.from, n) || !stralloc_0(&from)) strerr_dief(100, "bad sender");
  }
  else default_sender(&from, hosts.host.s);
  if (control_readuint(&maxbytes, "databytes", 0) < 0) control_die(111, "databytes");
  read_message(&in, maxbytes);
  /* as tern-smtpd does at the end of DATA (docs/security.md) */
  if (memchr(in.s, 0, in.len)) strerr_dief(100, "message refused: it contains a NUL character (binary data must be MIME-encoded)");
  inject_lf(&in);
  if (inject_scan(&m, in.s, in.len, o.t) < 0) strerr_diefu(111, "allocate");
  if (!inject_addheaders(&head, &m, hosts.host.s, from.len > 1 ? from.s : "MAILER-DAEMON", o.fullname ? o.fullname : getenv("NAME"), (uint64_t)time(0))
   || !stralloc_catb(&head, m.header.s, m.header.len) || !stralloc_catb(&head, "\n", 1)) strerr_diefu(111, "allocate");
  if (!envelope_add_sender(&env, from.s)) strerr_diefu(111, "allocate");
  for (i = 0; i < (size_t)argc; i++) add_rcpt(&env, argv[i], &hosts, &nr);
  for (i = 0; i < m.rcpts.len; i += strlen(m.rcpts.s + i) + 1) add_rcpt(&env, m.rcpts.s + i, &hosts, &nr);
  if (!nr) strerr_dief(100, "no recipients");
  if (!envelope_finish(&env)) strerr_diefu(111, "allocate");
  ob.head = &head; ob.body = in.s + m.body; ob.blen = in.len - m.body;
  queue_prog(&qprog);
  set_authuser();
  code = qinject(qprog.s, &put, &ob, env.s, env.len);
  if (code < 0) strerr_diefusys(111, "run ", qprog.s);
  if (code) strerr_dief(code >= 11 && code <= 40 ? 100 : 111, "queue: ", qinject_strexit(code));
  return 0;
}
