/* tern-queue.c: puts one message into the queue, durably (qmail-queue's interface).
 *
 * Interface: the message on fd 0 (LF line ends), the envelope on fd 1
 * (`Fsender\0Trcpt\0...\0\0`, lib/envelope.h); exit codes in lib/qexit.h.
 * Writes the message, envelope and trailer (lib/queuefile.h) into a new
 * file in queue/tmp/ (unnamed when the filesystem allows), fsyncs it, links
 * it to queue/mess/HH/ID (the one atomic commit), fsyncs mess/HH and pokes
 * queue/trigger without blocking (lib/queuewrite.h does those steps).
 *
 * SECURITY: installed setuid and setgid to the queue user (docs/security.md).
 * It trusts nothing from its caller but the bytes on fds 0 and 1: when it
 * runs set-id the home is the compiled one, no environment variable is
 * read but TERN_QUEUEID, which must be fresh (queuewrite_id_ok); fds 0-2,
 * the signal mask, SIGALRM, SIGPIPE, SIGXFSZ and the umask are set here,
 * whatever the caller left. The queue's directories are opened without
 * following symbolic links and checked by descriptor; what is linked into
 * mess/ is the file this process created and wrote. It runs nothing. The
 * envelope is checked record by record; an address longer than
 * ENVELOPE_ADDR_MAX ends it with 11. Killed at any instant it leaves either
 * nothing in mess/ or a whole file. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "qexit.h"
#include "queuewrite.h"
#include "setid.h"

#define USAGE "tern-queue (message on fd 0, envelope on fd 1)"
#define QUEUE_TIMEOUT 86400

/* The file to remove when the alarm ends us; a signal handler needs it. */
static queuewrite *current;

static void die(queuewrite *q, int code, char const *what)
{
  int e = errno;
  queuewrite_close(q);
  errno = e;
  strerr_warnwu(what, errno ? ": " : "", errno ? strerror(errno) : "");
  _exit(code);
}

static void check(queuewrite *q, int code)
{
  if (code) die(q, code, q->what);
}

static void on_alarm(int sig)
{
  (void)sig;
  if (current) queuewrite_close(current);
  _exit(QEXIT_TIMEOUT);
}

/* Copies fd 0 into the queue file. */
static void copy_message(queuewrite *q)
{
  char buf[65536];
  for (;;)
  {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; die(q, QEXIT_READ, "read the message"); }
    if (!r) return;
    check(q, queuewrite_put(q, buf, (size_t)r));
  }
}

/* The envelope from fd 1, checked (lib/queuewrite.h). */
static void read_envelope(queuewrite *q, queuewrite_env *e)
{
  char const *what;
  int code = queuewrite_env_read(e, 1, &what);
  if (code) die(q, code, what);
}

/* What the caller left us that we rely on. */
static void sanitize(queuewrite *q)
{
  int closed = setid_fds();
  if (closed < 0) die(q, QEXIT_READ, "open /dev/null on a closed descriptor");
  if ((closed & 3) || !setid_fd_ok(0, 0) || !setid_fd_ok(1, 0))
  { errno = 0; die(q, QEXIT_READ, "run: fd 0 (the message) and fd 1 (the envelope) must be open"); }
  umask(027);
  if (!setid_sigunblock()) die(q, QEXIT_BUG, "unblock signals");
  /* a file size limit then fails a write (EFBIG: 53), with nothing committed */
  if (!sig_ignore(SIGXFSZ) || !sig_ignore(SIGPIPE) || !sig_catch(SIGALRM, &on_alarm))
    die(q, QEXIT_BUG, "set signal handlers");
  alarm(QUEUE_TIMEOUT);
}

int main(int argc, char const *const *argv)
{
  queuewrite q = QUEUEWRITE_ZERO;
  queuewrite_env env = QUEUEWRITE_ENV_ZERO;
  char const *home, *proposed;
  PROG = "tern-queue";
  (void)argc; (void)argv;
  sanitize(&q);
  current = &q;
  /* set-id: the compiled home, and an ID proposed by tern-smtpd (so that
   * its Received header, 250 and log name the file) only when it is fresh */
  home = tern_home();
  proposed = getenv("TERN_QUEUEID");
  if (!queuewrite_id_ok(proposed, setid_secure(), (uint64_t)time(0))) proposed = 0;
  check(&q, queuewrite_open(&q, home));
  check(&q, queuewrite_create(&q, proposed));
  /* from here on nothing may depend on the caller's environment */
  if (!setid_env_clear()) die(&q, QEXIT_NOMEM, "clear the environment");
  copy_message(&q);
  read_envelope(&q, &env);
  check(&q, queuewrite_commit(&q, env.sa.s, env.sa.len));
  stralloc_free(&env.sa);
  queuewrite_trigger(&q);
  current = 0;
  queuewrite_close(&q);
  return QEXIT_OK;
}
