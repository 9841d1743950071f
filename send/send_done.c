/* send_done.c: the end of a message (its report, then delete mess before
 * state), its delay report, and the removal of what crashes leave behind in
 * tmp/ and state/. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "dsn.h"
#include "envelope.h"
#include "qinject.h"
#include "queuefile.h"
#include "statefile.h"
#include "send.h"

typedef struct bput_s bput;
struct bput_s { char const *s; size_t n; };

static int bounce_put(int fd, void *data)
{
  bput *b = data;
  return allwrite(fd, b->s, b->n) == b->n;
}

/* What m's report tells of each recipient (send.h: dsnreport_build), as
 * NOTIFY asked: failures unless NEVER or not FAILURE; successes with
 * SUCCESS, "relayed" when the next hop did not take DSN. With delay, the
 * recipients still waiting that asked for DELAY instead. How many. */
static size_t actions(msg const *m, char *act, int delay)
{
  size_t i, n = envelope_nrcpt(&m->e), k = 0;
  for (i = 0; i < n; i++)
  {
    unsigned int f = dsn_notify(envelope_rparams(&m->e, i));
    rcpt const *r = m->r + i;
    char const *t = r->st.text == (size_t)-1 ? "" : m->texts.s + r->st.text;
    act[i] = 0;
    if (delay) { if (r->st.status != 'K' && r->st.status != 'D' && (f & DSN_NOTIFY_DELAY)) act[i] = 'W'; }
    else if (r->st.status == 'D') { if (f & DSN_NOTIFY_FAILURE) act[i] = 'F'; }
    else if (r->st.status == 'K' && (f & DSN_NOTIFY_SUCCESS) && strncmp(t, DSN_PASSED, sizeof DSN_PASSED - 1))
      act[i] = r->local ? 'S' : 'R';
    k += !!act[i];
  }
  return k;
}

/* Queues the report act describes of m (or decides to drop it). 1 done
 * (queued or dropped: the B or W record may be written), 0 try again later. */
static int bounce(sendq *q, msg *m, uint64_t now, stralloc *what, char const *act)
{
  char const *sender = m->e.sender, *to, *bsender;
  char const *kind = "bounce";
  stralloc msgtext = STRALLOC_ZERO, env = STRALLOC_ZERO, path = STRALLOC_ZERO;
  size_t i, n = envelope_nrcpt(&m->e);
  bput b;
  char bid[QUEUEID_LEN + 1];
  int fd, code, r = 0, failure = 0;
  what->len = 0;
  for (i = 0; i < n; i++) if (act[i] == 'F') failure = 1;
  if (!failure) kind = act[0] == 'W' || memchr(act, 'W', n) ? "delay report" : "success report";
  /* only failures go to doublebounceto; a bounce gets no other report */
  if (!strcmp(sender, DOUBLEBOUNCE_SENDER) || (!*sender && (!failure || !q->c.doublebounce)))
  {
    if (failure) strerr_warnw("dropping the failure notice of msg ", m->id, ": a double bounce is not bounced again");
    return stralloc_cats(what, "dropped") && stralloc_0(what);
  }
  to = *sender ? sender : q->c.doublebounceto.s;
  bsender = *sender ? "" : DOUBLEBOUNCE_SENDER;
  if (!queueid_path(&path, "mess", m->id)) goto end;
  fd = open_read(path.s);
  if (fd < 0) { strerr_warnwusys("open ", path.s); goto end; }
  code = dsnreport_build(&msgtext, &q->c, m, fd, to, now, act);
  fd_close(fd);
  if (!code) { strerr_warnwusys("build the ", kind, " of msg ", m->id); goto end; }
  if (!envelope_add_sender(&env, bsender) || !envelope_add_rcpt(&env, to) || !envelope_finish(&env)) goto end;
  b.s = msgtext.s; b.n = msgtext.len;
  /* the report's own ID, proposed to tern-queue (as tern-smtpd does) so
   * that our log line links the two messages; unset before anything else runs */
  queueid_new(bid);
  if (setenv("TERN_QUEUEID", bid, 1) < 0) goto end;
  code = qinject("tern-queue", &bounce_put, &b, env.s, env.len);
  unsetenv("TERN_QUEUEID");
  if (code)
  {
    strerr_warnwu("queue the ", kind, " of msg ", m->id, ": ", code < 0 ? strerror(errno) : qinject_strexit(code));
    goto end;
  }
  /* tern-queue keeps the proposed ID unless that name was taken (a
   * collision of two random halves in one second): then name none rather
   * than a wrong one. We are the only reader of the queue, so the report
   * cannot have gone yet. */
  if (queueid_path(&path, "mess", bid) && access(path.s, F_OK) == 0)
    send_log(kind, " msg ", m->id, " to <", to, ">", *sender ? "" : " (double bounce)", ": queued as msg ", bid);
  else
    send_log(kind, " msg ", m->id, " to <", to, ">", *sender ? "" : " (double bounce)", ": queued under another ID");
  r = stralloc_cats(what, kind) && stralloc_cats(what, " queued for ") && stralloc_cats(what, to) && stralloc_0(what);
 end:
  stralloc_free(&msgtext); stralloc_free(&env); stralloc_free(&path);
  return r;
}

void sendq_delay_warn(sendq *q, msg *m, uint64_t now)
{
  stralloc path = STRALLOC_ZERO, rec = STRALLOC_ZERO, what = STRALLOC_ZERO;
  size_t n = envelope_nrcpt(&m->e);
  char *act;
  if (m->warned || !q->c.delaywarn || now < m->arrival + q->c.delaywarn) return;
  act = calloc(n ? n : 1, 1);
  if (!act) return;
  if (!actions(m, act, 1) || !*m->e.sender || !strcmp(m->e.sender, DOUBLEBOUNCE_SENDER))
    m->warned = 1;   /* nobody to tell, now or later: the waiting only shrink */
  else if (bounce(q, m, now, &what, act))
  {
    m->warned = 1;
    if (!statefile_fmt(&rec, 'W', 0, now, what.s) || !queueid_path(&path, "state", m->id)
     || statefile_append(path.s, rec.s, rec.len) < 0)
      strerr_warnwusys("record the delay report of msg ", m->id);
  }
  free(act);
  stralloc_free(&path); stralloc_free(&rec); stralloc_free(&what);
}

/* Removes m from the list g of msg * (if there). */
static void list_del(genalloc *g, msg const *m)
{
  size_t i, n = genalloc_len(msg *, g);
  msg **a = genalloc_s(msg *, g);
  for (i = n; i--; )
    if (a[i] == m)
    {
      memmove(a + i, a + i + 1, (n - i - 1) * sizeof *a);
      genalloc_setlen(msg *, g, n - 1);
      return;
    }
}

void sendq_forget(sendq *q, msg *m)
{
  list_del(&q->msgs, m);
  list_del(&q->fresh, m);
  sendq_id_del(q, m->id);
  sendq_msg_free(m);
}

void sendq_finish(sendq *q, msg *m, uint64_t now)
{
  stralloc path = STRALLOC_ZERO, rec = STRALLOC_ZERO, what = STRALLOC_ZERO;
  size_t n = envelope_nrcpt(&m->e);
  char *act = 0;
  if (!sendq_mess_exists(m->id))
  {
    /* deleted by the admin while it was being delivered: nothing to
     * bounce from; its state file goes too, unless it is held */
    if (!sendq_held(m->id) && queueid_path(&path, "state", m->id)) unlink(path.s);
    send_log("msg ", m->id, ": no longer in queue/mess (deleted or held by the admin): forgotten");
    sendq_forget(q, m);
    goto end;
  }
  act = calloc(n ? n : 1, 1);
  if (!act) goto oom;
  if (!m->bounced && actions(m, act, 0))
  {
    if (!bounce(q, m, now, &what, act))
    {
      m->bounce_due = now + sendconf_delay(&q->c, 1);
      goto end;
    }
    m->bounced = 1;
    if (!statefile_fmt(&rec, 'B', 0, now, what.s) || !queueid_path(&path, "state", m->id)
     || statefile_append(path.s, rec.s, rec.len) < 0)
      strerr_warnwusys("record the bounce of msg ", m->id);
  }
  /* mess before state: a crash in between leaves a state file alone, which
   * the next start removes; never a message without its records. */
  if (!queueid_path(&path, "mess", m->id)) goto oom;
  if (unlink(path.s) < 0 && errno != ENOENT) { strerr_warnwusys("remove ", path.s); m->bounce_due = now + 60; goto end; }
  statefile_sync_parent(path.s);
  if (!queueid_path(&path, "state", m->id)) goto oom;
  if (unlink(path.s) < 0 && errno != ENOENT) strerr_warnwusys("remove ", path.s);
  send_log("end msg ", m->id);
  sendq_forget(q, m);
  goto end;
 oom:
  strerr_warnwu("finish msg ", m->id, ": out of memory");
  m->bounce_due = now + 60;
 end:
  free(act);
  stralloc_free(&path); stralloc_free(&rec); stralloc_free(&what);
}

static void clean_tmp(char const *dir, char const *name, void *data)
{
  uint64_t now = *(uint64_t *)data;
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  if (stralloc_cats(&p, dir) && stralloc_catb(&p, "/", 1) && stralloc_cats(&p, name) && stralloc_0(&p)
   && lstat(p.s, &st) == 0
   && (uint64_t)st.st_mtime + SEND_TMP_AGE < now)
  {
    if (unlink(p.s) == 0) strerr_warnw("removed stale ", p.s);
  }
  stralloc_free(&p);
}

static void clean_state(char const *dir, char const *name, void *data)
{
  stralloc p = STRALLOC_ZERO;
  (void)data;
  /* a held message (queue/hold, tern-qsuper -h) keeps its records */
  if (!sendq_mess_exists(name) && !sendq_held(name) && stralloc_cats(&p, dir) && stralloc_catb(&p, "/", 1)
   && stralloc_cats(&p, name) && stralloc_0(&p) && unlink(p.s) == 0)
    strerr_warnw("removed orphan state file ", p.s);
  stralloc_free(&p);
}

void sendq_cleanup(uint64_t now, int orphans)
{
  queueid_each("tmp", 1, &clean_tmp, &now);
  if (orphans) queueid_each("state", 0, &clean_state, 0);
}
