/* queuedclient.c: one message to the resident queue writer
 * (queuedclient.h). */
#include <errno.h>
#include <stdlib.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>
#include "control.h"
#include "qdmsg.h"
#include "qexit.h"
#include "queuedclient.h"

int queuedclient_socket(stralloc *sa, char const *var)
{
  char const *x = getenv(var);
  sa->len = 0;
  if (x && *x) return 1;
  return tern_path(sa, "queued/socket");
}

static void deadline(queuedclient const *w, tain *d, tain *stamp)
{
  tain_now(stamp);
  tain_addsec(d, stamp, w->timeout);
}

static void w_put(queuedclient *w, char const *s, size_t n)
{
  tain d, stamp;
  if (w->failed) return;
  deadline(w, &d, &stamp);
  if (buffer_timed_put(&w->b, s, n, &d, &stamp) < n) w->failed = 1;
}

/* Reads n bytes from the writer within the timeout. */
static int w_get(queuedclient *w, char *s, size_t n)
{
  tain d, stamp;
  deadline(w, &d, &stamp);
  return buffer_timed_get(&w->rb, s, n, &d, &stamp) == n;
}

/* Record header then payload (a long one cut into several records). */
static void w_record(queuedclient *w, char t, char const *s, size_t n)
{
  while (n)
  {
    char h[QDMSG_HDR];
    size_t m = n > QDMSG_MAX ? QDMSG_MAX : n;
    qdmsg_hdr(h, t, (uint32_t)m);
    w_put(w, h, sizeof h);
    w_put(w, s, m);
    s += m; n -= m;
  }
}

static void w_close(queuedclient *w)
{
  fd_close(w->sock);
  w->sock = -1;
}

int queuedclient_start(queuedclient *w, char const *path, char const *qid, unsigned int timeout)
{
  char h[QDMSG_HDR], t;
  uint32_t len;
  w->failed = 0;
  w->timeout = timeout;
  w->id[0] = 0;
  w->sock = ipc_stream_nbcoe();
  if (w->sock < 0) return 0;
  /* a full backlog gives EAGAIN: the queue program, not a wait */
  if (ipc_connect(w->sock, path) < 0) { int e = errno; w_close(w); errno = e; return 0; }
  buffer_init(&w->rb, &buffer_read, w->sock, w->rbuf, sizeof w->rbuf);
  /* 'B' (busy), silence, or a close (a uid it does not allow) */
  if (!w_get(w, h, sizeof h) || !qdmsg_hdr_parse(h, &t, &len) || t != 'R')
  {
    w_close(w);
    errno = EBUSY;
    return 0;
  }
  buffer_init(&w->b, &buffer_write, w->sock, w->buf, sizeof w->buf);
  qdmsg_hdr(h, 'I', QUEUEID_LEN);
  w_put(w, h, sizeof h);
  w_put(w, qid, QUEUEID_LEN);
  return 1;
}

void queuedclient_put(queuedclient *w, char const *s, size_t n)
{
  w_record(w, 'D', s, n);
}

/* A write that failed means the writer gave up early: its answer, if it
 * sent one, says why. */
int queuedclient_finish(queuedclient *w, char const *env, size_t envlen)
{
  char h[QDMSG_HDR], r[QDMSG_RESULT], t;
  uint32_t len;
  int code;
  tain d, stamp;
  w_record(w, 'E', env, envlen);
  deadline(w, &d, &stamp);
  if (!w->failed && !buffer_timed_flush(&w->b, &d, &stamp)) w->failed = 1;
  if (!w_get(w, h, sizeof h) || !qdmsg_hdr_parse(h, &t, &len) || t != 'C'
   || !w_get(w, r, len) || !qdmsg_result_parse(r, len, &code, w->id))
    code = QEXIT_CRASHED;
  w_close(w);
  return code;
}

void queuedclient_abort(queuedclient *w)
{
  if (w->sock >= 0) w_close(w);
}
