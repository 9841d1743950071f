/* queued_conn.c: one message from the records of one client (queued_conn.h). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "qexit.h"
#include "queued_conn.h"

enum { ST_ID, ST_BODY, ST_ENV, ST_DONE };

void queued_conn_start(queued_conn *c, int fd, queued_limits const *lim, char const *home, queuewrite *kept)
{
  queuewrite z = QUEUEWRITE_ZERO;
  queuewrite_env e = QUEUEWRITE_ENV_ZERO;
  c->fd = fd;
  c->stage = ST_ID;
  c->hdrn = c->idn = 0;
  c->left = 0;
  c->code = 0;
  c->what = 0;
  c->err = 0;
  c->lim = lim;
  c->home = home;
  c->kept = kept;
  c->q = z;
  c->env = e;
}

/* The message ends here, with code (0: committed). */
static int finish(queued_conn *c, int code, char const *what, int err)
{
  c->code = code;
  c->what = what;
  c->err = err;
  c->stage = ST_DONE;
  queuewrite_close(&c->q);
  stralloc_free(&c->env.sa);
  return QUEUED_END;
}

static int fail_q(queued_conn *c, int code)
{
  return finish(c, code, c->q.what, errno);
}

/* A record the protocol does not allow here: the client is broken or
 * hostile; tern-queue's answer to input it cannot read. */
static int fail_proto(queued_conn *c, char const *what)
{
  errno = 0;
  return finish(c, QEXIT_READ, what, 0);
}

/* The whole ID has come: check it, then open the file. */
static int take_id(queued_conn *c)
{
  int code;
  c->id[QUEUEID_LEN] = 0;
  if (!queuewrite_id_ok(c->id, 1, (uint64_t)time(0))) return fail_proto(c, "accept the queue ID: not a fresh one");
  code = c->kept ? queuewrite_open_kept(&c->q, c->kept, c->home) : queuewrite_open(&c->q, c->home);
  c->q.gather = 1;   /* one write for a small message (lib/queuewrite.h) */
  if (code || (code = queuewrite_create(&c->q, c->id))) return fail_q(c, code);
  c->stage = ST_BODY;
  return QUEUED_MORE;
}

/* The envelope is whole: check it, commit, and tell the scheduler. */
static int commit(queued_conn *c)
{
  int code = queuewrite_env_check(&c->env);
  if (code) return finish(c, code, "parse the envelope", errno);
  if ((code = queuewrite_commit(&c->q, c->env.sa.s, c->env.sa.len))) return fail_q(c, code);
  queuewrite_trigger(&c->q);
  memcpy(c->id, c->q.id, sizeof c->id);
  return finish(c, 0, 0, 0);
}

static int take_env(queued_conn *c, char const *s, size_t n)
{
  size_t i;
  if (c->env.sa.len + n > c->lim->maxenv) return finish(c, QEXIT_ENVELOPE, "accept an envelope that long", 0);
  for (i = 0; i < n; i++)
  {
    int code = queuewrite_env_byte(&c->env, s[i]);
    if (code) return finish(c, code, code == QEXIT_ADDR_TOO_LONG ? "accept an address that long" : "parse the envelope", errno);
  }
  return QUEUED_MORE;
}

/* n payload bytes of the current record. */
static int payload(queued_conn *c, char const *s, size_t n)
{
  int code;
  switch (c->type)
  {
    case 'I':
      memcpy(c->id + c->idn, s, n);
      c->idn += n;
      return c->idn == QUEUEID_LEN ? take_id(c) : QUEUED_MORE;
    case 'D':
      if (c->lim->maxbytes && c->q.len + n > c->lim->maxbytes)
        return finish(c, QEXIT_REFUSED, "accept a message that big", 0);
      if ((code = queuewrite_put(&c->q, s, n))) return fail_q(c, code);
      return QUEUED_MORE;
    default:
      if (take_env(c, s, n)) return QUEUED_END;
      /* the envelope must end with its record */
      if (!c->left && c->env.done) return commit(c);
      return QUEUED_MORE;
  }
}

/* A whole header: is this record allowed now? */
static int header(queued_conn *c)
{
  if (!qdmsg_hdr_parse(c->hdr, &c->type, &c->left)) return fail_proto(c, "read a record: malformed");
  switch (c->stage)
  {
    case ST_ID: if (c->type == 'I') return QUEUED_MORE; break;
    case ST_BODY:
      if (c->type == 'D') return QUEUED_MORE;
      if (c->type == 'E') { c->stage = ST_ENV; return QUEUED_MORE; }
      break;
    case ST_ENV: if (c->type == 'E') return QUEUED_MORE; break;
  }
  return fail_proto(c, "read a record: not expected here");
}

int queued_conn_feed(queued_conn *c, char const *s, size_t n)
{
  while (n)
  {
    size_t m;
    if (c->stage == ST_DONE) return fail_proto(c, "read: bytes after the end");
    if (c->hdrn < QDMSG_HDR)
    {
      m = QDMSG_HDR - c->hdrn;
      if (m > n) m = n;
      memcpy(c->hdr + c->hdrn, s, m);
      c->hdrn += m;
      s += m; n -= m;
      if (c->hdrn == QDMSG_HDR && header(c)) return QUEUED_END;
      continue;
    }
    m = c->left < n ? c->left : n;
    c->left -= (uint32_t)m;
    if (!c->left) c->hdrn = 0;
    if (payload(c, s, m)) return QUEUED_END;
    s += m; n -= m;
  }
  return QUEUED_MORE;
}

void queued_conn_end(queued_conn *c)
{
  queuewrite_close(&c->q);
  stralloc_free(&c->env.sa);
}
