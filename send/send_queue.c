/* send_queue.c: tern-send's view of the queue directories: finding new
 * messages under the active limit and rebuilding their state. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "qinject.h"
#include "queuefile.h"
#include "route.h"
#include "statefile.h"
#include "users.h"
#include "send.h"

/* --- the set of known IDs: open addressing, linear probing --- */

static size_t id_slot(genalloc const *g, uint64_t v)
{
  size_t cap = genalloc_len(uint64_t, g);
  uint64_t const *t = genalloc_s(uint64_t, g);
  size_t i = (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
  while (t[i] && t[i] != v) i = (i + 1) & (cap - 1);
  return i;
}

int sendq_id_known(sendq *q, char const *id)
{
  uint64_t v;
  if (!queueid_value(id, &v) || !genalloc_len(uint64_t, &q->ids)) return 0;
  return genalloc_s(uint64_t, &q->ids)[id_slot(&q->ids, v)] == v;
}

static int id_grow(sendq *q)
{
  genalloc old = q->ids, g = GENALLOC_ZERO;
  size_t cap = genalloc_len(uint64_t, &old), ncap = cap ? cap * 2 : 1024, i;
  if (!genalloc_ready(uint64_t, &g, ncap)) return 0;
  memset(g.s, 0, ncap * sizeof(uint64_t));
  genalloc_setlen(uint64_t, &g, ncap);
  for (i = 0; i < cap; i++)
  {
    uint64_t v = genalloc_s(uint64_t, &old)[i];
    if (v) genalloc_s(uint64_t, &g)[id_slot(&g, v)] = v;
  }
  genalloc_free(uint64_t, &old);
  q->ids = g;
  return 1;
}

int sendq_id_add(sendq *q, char const *id)
{
  uint64_t v;
  size_t i;
  if (!queueid_value(id, &v)) return 0;
  if ((q->nids + 1) * 2 > genalloc_len(uint64_t, &q->ids) && !id_grow(q)) return 0;
  i = id_slot(&q->ids, v);
  if (!genalloc_s(uint64_t, &q->ids)[i]) q->nids++;
  genalloc_s(uint64_t, &q->ids)[i] = v;
  return 1;
}

void sendq_id_del(sendq *q, char const *id)
{
  uint64_t v, *t = genalloc_s(uint64_t, &q->ids);
  size_t cap = genalloc_len(uint64_t, &q->ids), i, j;
  if (!cap || !queueid_value(id, &v)) return;
  i = id_slot(&q->ids, v);
  if (t[i] != v) return;
  t[i] = 0;
  q->nids--;
  /* Backward-shift the entries that probed past the hole. */
  for (j = (i + 1) & (cap - 1); t[j]; j = (j + 1) & (cap - 1))
  {
    uint64_t w = t[j];
    t[j] = 0;
    t[id_slot(&q->ids, w)] = w;
  }
}

/* --- messages --- */

char const *send_domain(char const *addr)
{
  char const *at = strrchr(addr, '@');
  return at ? at + 1 : "";
}

void sendq_msg_free(msg *m)
{
  stralloc_free(&m->env);
  envelope_free(&m->e);
  stralloc_free(&m->texts);
  free(m->r);
  free(m);
}

static uint64_t id_time(char const *id)
{
  uint64_t t = 0;
  size_t i;
  for (i = 0; i < 8; i++)
    t = (t << 4) | (uint64_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
  return t;
}

/* Reads mess/HH/ID and state/HH/ID into a new msg. 1 ok, 0 unusable, -1 error. */
static int msg_load(sendq *q, msg **out, char const *id, uint64_t now)
{
  stralloc path = STRALLOC_ZERO;
  msg *m = calloc(1, sizeof *m);
  size_t i, n;
  uint64_t mlen;
  int fd, r = -1;
  struct stat st;
  if (!m) return -1;
  memcpy(m->id, id, QUEUEID_LEN + 1);
  if (!queueid_path(&path, "mess", id)) goto fail;
  fd = open_read(path.s);
  if (fd < 0) { r = errno == ENOENT ? 0 : -1; goto fail; }
  r = queuefile_read_envelope(fd, &m->env, &mlen);
  if (r > 0 && fstat(fd, &st) < 0) r = -1;
  fd_close(fd);
  if (r <= 0) goto fail;
  r = -1;
  if (envelope_parse(&m->e, m->env.s, m->env.len, 1) <= 0) goto fail;
  n = envelope_nrcpt(&m->e);
  m->size = mlen;
  m->arrival = id_time(id);
  if (!m->arrival || m->arrival > now + 86400) m->arrival = (uint64_t)st.st_mtime;
  m->r = calloc(n ? n : 1, sizeof *m->r);
  if (!m->r) goto fail;
  {
    staterc *sr = calloc(n ? n : 1, sizeof *sr);
    if (!sr || !queueid_path(&path, "state", id)
     || statefile_read(path.s, sr, n, &m->texts, &m->bounced) < 0) { free(sr); goto fail; }
    m->warned = !!(m->bounced & STATEFILE_WARNED);
    m->bounced = !!(m->bounced & STATEFILE_BOUNCED);
    for (i = 0; i < n; i++)
    {
      m->r[i].st = sr[i];
      m->r[i].local = users_is_local(&q->c.locals, envelope_rcpt(&m->e, i));
      if (sr[i].status != 'K' && sr[i].status != 'D')
      {
        m->pending++;
        m->r[i].due = sr[i].last + sendconf_delay(&q->c, sr[i].tries);
        /* control/firstdelay: a burst collects before the first attempt */
        if (!sr[i].status && m->r[i].due < m->arrival + q->c.firstdelay) m->r[i].due = m->arrival + q->c.firstdelay;
      }
    }
    free(sr);
  }
  stralloc_free(&path);
  *out = m;
  return 1;
 fail:
  stralloc_free(&path);
  sendq_msg_free(m);
  return r;
}

int sendq_mess_exists(char const *id)
{
  return queueid_exists("mess", id);
}

int sendq_held(char const *id)
{
  return queueid_exists("hold", id);
}

/* A deferred message dropped from memory under the active limit (q->evicted)
 * has its state file's mtime set to its next attempt (send_result.c): it is
 * not loaded again before then. Only an evicted message's state file has
 * an mtime in the future. */
static int not_due_yet(char const *id, uint64_t now)
{
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  int r = queueid_path(&p, "state", id) && stat(p.s, &st) == 0 && (uint64_t)st.st_mtime > now;
  stralloc_free(&p);
  return r;
}

typedef struct scanctx_s scanctx;
struct scanctx_s { sendq *q; uint64_t now; size_t loaded; };

static void scan_one(char const *dir, char const *name, void *data)
{
  scanctx *x = data;
  sendq *q = x->q;
  uint64_t now = x->now;
  msg *m;
  char fmt[UINT64_FMT], nfmt[UINT64_FMT];
  int r;
  (void)dir;
  if (strlen(name) != QUEUEID_LEN || sendq_id_known(q, name)) return;
  /* the active limit: the rest stays on disk until room frees */
  if (genalloc_len(msg *, &q->msgs) >= q->c.active) { q->overflow = 1; return; }
  if (q->evicted && not_due_yet(name, now)) return;
  if (!sendq_id_add(q, name)) return;
  r = msg_load(q, &m, name, now);
  if (r < 0)
  {
    /* a trigger line names a message once: the next scan must try again */
    sendq_id_del(q, name);
    q->rescan = 1;
    strerr_warnwusys("load msg ", name);
    return;
  }
  if (!r && !sendq_mess_exists(name)) { sendq_id_del(q, name); return; }   /* deleted or held meanwhile */
  if (!r) { strerr_warnw("msg ", name, " is malformed: left in the queue, not delivered"); return; }
  if (!genalloc_append(msg *, &q->msgs, &m)) { sendq_id_del(q, m->id); sendq_msg_free(m); return; }
  if (!genalloc_append(msg *, &q->fresh, &m)) strerr_diefu(111, "allocate");
  x->loaded++;
  fmt[uint64_fmt(fmt, m->size)] = 0;
  nfmt[uint64_fmt(nfmt, (uint64_t)envelope_nrcpt(&m->e))] = 0;
  send_log("new msg ", m->id);
  send_log("info msg ", m->id, ": bytes ", fmt, " from <", m->e.sender, "> rcpts ", nfmt);
}

void sendq_scan(sendq *q, uint64_t now)
{
  scanctx x = { .q = q, .now = now };
  q->overflow = 0;
  queueid_each("mess", 0, &scan_one, &x);
}

void sendq_scan_id(sendq *q, char const *id, uint64_t now)
{
  scanctx x = { .q = q, .now = now };
  if (sendq_mess_exists(id)) scan_one(0, id, &x);
}

void sendq_scan_some(sendq *q, uint64_t now, size_t want)
{
  scanctx x = { .q = q, .now = now };
  while (q->scan_hh < 256 && x.loaded < want) queueid_each_bucket("mess", q->scan_hh++, &scan_one, &x);
}

int send_route(stralloc *sa, sendconf const *c, char const *domain)
{
  size_t i, n = strlen(domain);
  char const *v;
  if (n && domain[n - 1] == '.') n--;
  sa->len = 0;
  if (!stralloc_catb(sa, "mx ", 3) || !stralloc_catb(sa, domain, n)) return 0;
  for (i = 3; i < sa->len; i++) if (sa->s[i] >= 'A' && sa->s[i] <= 'Z') sa->s[i] += 32;
  if (!stralloc_0(sa)) return 0;
  v = route_find(&c->routes, sa->s + 3);
  if (!v || !*v) return 1;
  sa->len = 0;
  return stralloc_cats(sa, "relay ") && stralloc_cats(sa, v) && stralloc_0(sa);
}
