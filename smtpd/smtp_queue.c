/* smtp_queue.c: one message to the resident queue writer, or one run of
 * the queue program (smtp_queue.h).
 * SECURITY: the program is run directly (no shell); we add to its
 * environment the proposed queue ID, which tern-queue checks, and
 * TERN_AUTHUSER when the client authenticated (removed otherwise, so that
 * only a login sets it: a content filter such as tern-dkimsign trusts it).
 * The writer gets the same bytes in records (lib/qdmsg.h) and checks them
 * as tern-queue does; its answer is parsed by qdmsg's parsers, and anything
 * short or odd counts as a crashed queue program (451). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/sig.h>
#include <skalibs/unix-timed.h>
#include "control.h"
#include "qdmsg.h"
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
  char const *x = getenv("TERNQUEUE");
  sa->len = 0;
  if (x && *x) return 1;
  return tern_path(sa, "queued/socket");
}

/* Reads n bytes from the writer within the timeout. */
static int w_get(smtp_queue *q, char *s, size_t n)
{
  tain d, stamp;
  tain_now(&stamp);
  tain_addsec(&d, &stamp, q->timeout);
  return buffer_timed_get(&q->rb, s, n, &d, &stamp) == n;
}

/* The writer's socket, when it answers 'R'; -1 when it is not there, is
 * busy or refuses us: then the program does the work. */
static int w_connect(smtp_queue *q, char const *path)
{
  char h[QDMSG_HDR], t;
  uint32_t len;
  int fd = ipc_stream_nbcoe();
  if (fd < 0) return -1;
  /* a full backlog gives EAGAIN: the program, not a wait */
  if (ipc_connect(fd, path) < 0) { fd_close(fd); return -1; }
  q->sock = fd;
  buffer_init(&q->rb, &buffer_read, fd, q->rbuf, sizeof q->rbuf);
  if (!w_get(q, h, sizeof h) || !qdmsg_hdr_parse(h, &t, &len) || t != 'R')
  {
    fd_close(fd);
    q->sock = -1;
  }
  return q->sock;
}

/* Record header then payload, into q->b (its timeout applies). */
static void w_record(smtp_queue *q, char t, char const *s, size_t n)
{
  while (n)
  {
    char h[QDMSG_HDR];
    size_t m = n > QDMSG_MAX ? QDMSG_MAX : n;
    qdmsg_hdr(h, t, (uint32_t)m);
    q_put(q, &q->b, h, sizeof h);
    q_put(q, &q->b, s, m);
    s += m; n -= m;
  }
}

static int w_start(smtp_queue *q, char const *path, char const *qid)
{
  char h[QDMSG_HDR];
  if (w_connect(q, path) < 0) return 0;
  q->pid = 0;
  buffer_init(&q->b, &buffer_write, q->sock, q->buf, sizeof q->buf);
  qdmsg_hdr(h, 'I', QUEUEID_LEN);
  q_put(q, &q->b, h, sizeof h);
  q_put(q, &q->b, qid, QUEUEID_LEN);
  return 1;
}

/* The end: the envelope, then the writer's one answer. A write that failed
 * means the writer gave up early: its answer says why. */
static int w_finish(smtp_queue *q, stralloc const *envelope)
{
  char h[QDMSG_HDR], r[QDMSG_RESULT], t;
  uint32_t len;
  int code;
  w_record(q, 'E', envelope->s, envelope->len);
  q_flush(q, &q->b);
  if (!w_get(q, h, sizeof h) || !qdmsg_hdr_parse(h, &t, &len) || t != 'C'
   || !w_get(q, r, len) || !qdmsg_result_parse(r, len, &code, q->id))
    code = QEXIT_CRASHED;
  fd_close(q->sock);
  q->sock = -1;
  return code;
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
  q->sock = -1;
  q->id[0] = 0;
  if (sock && w_start(q, sock, qid)) return 1;
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
  if (q->sock >= 0) w_record(q, 'D', s, n);
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
  if (q->sock >= 0) return w_finish(q, envelope);
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
  if (q->sock >= 0) { fd_close(q->sock); q->sock = -1; return; }
  close(q->msgfd);
  close(q->envfd);
  reap(q);
}
