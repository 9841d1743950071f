/* Fuzz the whole tern-smtpd dialogue: the input is what a client sends (any
 * bytes, pipelined), the session runs over it as over a socket, replies go to
 * /dev/null. No input may crash it, hang it, or let a relay through: the
 * instance's rcpthosts holds only tern.fuzz and .sub.tern.fuzz, and the fake
 * queue below checks every envelope it is given against that, and that no
 * CR or NUL reaches the queue. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "fuzz.h"
#include "envelope.h"
#include "qexit.h"
#include "../../smtpd/smtp_conf.h"
#include "../../smtpd/smtp_queue.h"
#include "../../smtpd/smtp_relay.h"
#include "../../smtpd/smtp_session.h"

/* The queue program, in process: this file defines every function of
 * smtpd/smtp_queue.o, so the linker never takes that member from the
 * archive. A fork per DATA held the target to ~1,000 runs a second, and an
 * in-process queue can look at what tern-smtpd would have queued. */

static size_t qbytes;
static int qcr;

int smtp_queue_prog(stralloc *sa)
{
  sa->len = 0;
  return stralloc_cats(sa, "fuzz-queue") && stralloc_0(sa);
}

int smtp_queue_socket(stralloc *sa)
{
  sa->len = 0;
  return 1;
}

int smtp_queue_start(smtp_queue *q, char const *sock, char const *prog, char const *qid, char const *authuser, unsigned int timeout)
{
  (void)sock; (void)prog; (void)qid; (void)authuser;
  memset(q, 0, sizeof *q);
  q->timeout = timeout;
  qbytes = 0;
  qcr = 0;
  return 1;
}

void smtp_queue_put(smtp_queue *q, char const *s, size_t n)
{
  (void)q;
  qbytes += n;
  if (memchr(s, '\r', n) || memchr(s, 0, n)) qcr = 1;
}

/* What tern-smtpd may accept from a client that is neither a relay client
 * nor authenticated (docs/smtpd.md, "The relay decision"): a domain of ours,
 * or postmaster@ME; no routing characters in the local part. */
static int ours(char const *a)
{
  char const *at = strrchr(a, '@'), *d;
  size_t n;
  if (!at) return 0;
  if (memchr(a, '%', at - a) || memchr(a, '!', at - a) || memchr(a, '@', at - a)) return 0;
  d = at + 1;
  n = strlen(d);
  if (!strcasecmp(a, "postmaster@mx.tern.fuzz")) return 1;
  return !strcasecmp(d, "tern.fuzz") || (n > 14 && !strcasecmp(d + n - 14, ".sub.tern.fuzz"));
}

static smtp_conf conf = SMTP_CONF_ZERO;

int smtp_queue_finish(smtp_queue *q, stralloc const *e)
{
  /* some messages fail, chosen by size, so the failure replies run too */
  static int const fail[] = { QEXIT_ADDR_TOO_LONG, QEXIT_REFUSED, QEXIT_WRITE, QEXIT_TEMPREFUSED, QEXIT_CRASHED };
  envelope env = ENVELOPE_ZERO;
  size_t i;
  (void)q;
  /* the whole input is there at once: with the pipelining check on, text
   * after DATA or commands after the dot are always early, so nothing can
   * be queued (smtp_guard.c) */
  FUZZ_ASSERT(!conf.strictpipelining);
  FUZZ_ASSERT(envelope_parse(&env, e->s, e->len, 1) == 1);
  for (i = 0; i < envelope_nrcpt(&env); i++)
    if (!ours(envelope_rcpt(&env, i)))
    {
      fprintf(stderr, "fuzz: relayed to <%s>\n", envelope_rcpt(&env, i));
      FUZZ_ASSERT(!"foreign recipient queued");
    }
  envelope_free(&env);
  FUZZ_ASSERT(!qcr);   /* the queue stores LF line ends only, and no NUL */
  return qbytes % 4 == 3 ? fail[qbytes / 4 % 5] : QEXIT_OK;
}

void smtp_queue_abort(smtp_queue *q)
{
  (void)q;
}
static relay rel = RELAY_ZERO;
static int devnull = -1;

static void put(char const *dir, char const *name, char const *text)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FUZZ_ASSERT(openwritenclose_unsafe(path, text, strlen(text)));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static char home[] = "/tmp/tern-fuzz-home-XXXXXX";
  char const *what;
  char ctl[300];
  (void)argc; (void)argv;
  FUZZ_ASSERT(mkdtemp(home));
  snprintf(ctl, sizeof ctl, "%s/control", home);
  FUZZ_ASSERT(mkdir(ctl, 0755) == 0);
  put(ctl, "me", "mx.tern.fuzz\n");
  put(ctl, "rcpthosts", "tern.fuzz\n.sub.tern.fuzz\n");
  put(ctl, "databytes", "20000\n");
  put(ctl, "timeoutsmtpd", "2\n");
  setenv("TERN_HOME", home, 1);
  FUZZ_ASSERT(smtp_conf_load(&conf, &what));
  FUZZ_ASSERT(relay_load(&rel));
  devnull = open("/dev/null", O_WRONLY);
  FUZZ_ASSERT(devnull >= 0);
  return 0;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  smtp_session s;
  int fd = memfd_create("in", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) { close(fd); return 0; }
  /* half the inputs (by size) with the pipelining check on: the input is
   * all there at once, so every DATA is then improper pipelining; the other
   * half reach the queue */
  conf.strictpipelining = size & 1;
  smtp_session_init(&s, &conf, &rel, "fuzz-queue");
  smtp_io_setfds(&s.io, fd, devnull);
  s.conn.remoteip = "192.0.2.7";
  smtp_session_run(&s);
  smtp_session_free(&s);
  close(fd);
  return 0;
}
