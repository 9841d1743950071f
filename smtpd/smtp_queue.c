/* smtp_queue.c: one message to the resident queue writer, or one run of
 * the queue program (smtp_queue.h).
 * SECURITY: the program is run directly (no shell); we add to its
 * environment the proposed queue ID, which tern-queue checks, and
 * TERN_AUTHUSER when the client authenticated (removed otherwise, so that
 * only a login sets it: a content filter such as tern-dkimsign trusts it).
 * The writer gets the same bytes through lib/queuedclient.h and checks
 * them as tern-queue does; its answer is parsed there, and anything short
 * or odd counts as a crashed queue program (451). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/unix-timed.h>
#include "qexit.h"
#include "smtp_queue.h"

int smtp_queue_prog(stralloc *sa)
{
  char const *x = getenv("TERNQUEUE");
  char self[4096];
  ssize_t n;
  sa->len = 0;
  if (x && *x) return stralloc_cats(sa, x) && stralloc_0(sa);
  n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 0;
  while (n && self[n-1] != '/') n--;
  return stralloc_catb(sa, self, (size_t)n) && stralloc_cats(sa, "tern-queue") && stralloc_0(sa);
}

/* A write failed: the program died (EPIPE) or stopped reading (timeout);
 * in the second case it will never exit by itself. */
static void stuck(smtp_queue *q)
{
  q->failed = 1;
  if (errno == ETIMEDOUT && q->pid > 0) kill(q->pid, SIGKILL);
}

static void q_put(smtp_queue *q, buffer *b, char const *s, size_t n)
{
  tain d, stamp;
  if (q->failed) return;
  tain_now(&stamp);
  tain_addsec(&d, &stamp, q->timeout);
  if (buffer_timed_put(b, s, n, &d, &stamp) < n) q->failed = 1;
}

static int q_flush(smtp_queue *q, buffer *b)
{
  tain d, stamp;
  if (q->failed) return 0;
  tain_now(&stamp);
  tain_addsec(&d, &stamp, q->timeout);
  if (!buffer_timed_flush(b, &d, &stamp)) stuck(q);
  return !q->failed;
}

int smtp_queue_socket(stralloc *sa)
{
  return queuedclient_socket(sa, "TERNQUEUE");
}

/* In the child: message pipe on 0, envelope pipe on 1. */
static void child(char const *prog, char const *qid, char const *authuser, int const *mp, int const *ep)
{
  char *const argv[2] = { (char *)prog, 0 };
  close(mp[1]);
  close(ep[1]);
  if (fd_move(0, mp[0]) < 0 || fd_move(1, ep[0]) < 0) _exit(QEXIT_EXEC);
  if (setenv("TERN_QUEUEID", qid, 1) < 0) _exit(QEXIT_NOMEM);
  if (authuser ? setenv("TERN_AUTHUSER", authuser, 1) < 0 : unsetenv("TERN_AUTHUSER") < 0) _exit(QEXIT_NOMEM);
  sig_restore(SIGPIPE);
  execv(prog, argv);
  _exit(QEXIT_EXEC);
}

int smtp_queue_start(smtp_queue *q, char const *sock, char const *prog, char const *qid, char const *authuser, unsigned int timeout)
{
  int mp[2], ep[2];
  q->failed = 0;
  q->timeout = timeout;
  q->pid = 0;
  q->writer = sock && queuedclient_start(&q->w, sock, qid, timeout);
  if (q->writer) return 1;
  if (pipe(mp) < 0) return 0;
  if (pipe(ep) < 0) { close(mp[0]); close(mp[1]); return 0; }
  q->pid = fork();
  if (q->pid < 0) { close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]); return 0; }
  if (!q->pid) child(prog, qid, authuser, mp, ep);
  close(mp[0]);
  close(ep[0]);
  coe(mp[1]);
  coe(ep[1]);
  ndelay_on(mp[1]);
  ndelay_on(ep[1]);
  q->msgfd = mp[1];
  q->envfd = ep[1];
  buffer_init(&q->b, &buffer_write, q->msgfd, q->buf, sizeof q->buf);
  return 1;
}

void smtp_queue_put(smtp_queue *q, char const *s, size_t n)
{
  if (q->writer) queuedclient_put(&q->w, s, n);
  else q_put(q, &q->b, s, n);
}

static int reap(smtp_queue *q)
{
  int wstat;
  if (wait_pid(q->pid, &wstat) < 0) return QEXIT_CRASHED;
  if (WIFSIGNALED(wstat)) return QEXIT_CRASHED;
  return WEXITSTATUS(wstat);
}

int smtp_queue_finish(smtp_queue *q, stralloc const *envelope)
{
  char ebuf[4096];
  buffer eb = BUFFER_INIT(&buffer_write, q->envfd, ebuf, sizeof ebuf);
  if (q->writer) return queuedclient_finish(&q->w, envelope->s, envelope->len);
  q_flush(q, &q->b);
  close(q->msgfd);
  q_put(q, &eb, envelope->s, envelope->len);
  q_flush(q, &eb);
  close(q->envfd);
  /* a failed write only means the program stopped reading: its exit code
   * says why (disk full, bad envelope, ...) */
  return reap(q);
}

void smtp_queue_abort(smtp_queue *q)
{
  /* the writer sees the end before the envelope and commits nothing */
  if (q->writer) { queuedclient_abort(&q->w); return; }
  close(q->msgfd);
  close(q->envfd);
  reap(q);
}
