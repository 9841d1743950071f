/* local_deliver.c: one recipient of tern-local: expand, check, deliver. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "maildir.h"
#include "qinject.h"
#include "users.h"
#include "local.h"

int local_read_header(localmsg *m)
{
  size_t want = m->msglen < LOCAL_HEADER_MAX ? (size_t)m->msglen : LOCAL_HEADER_MAX;
  size_t got = 0, i;
  m->header.len = 0;
  if (!stralloc_ready(&m->header, want + 1)) return -1;
  while (got < want)
  {
    ssize_t r = pread(m->fd, m->header.s + got, want - got, (off_t)got);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (!r) { errno = EPROTO; return -1; }
    got += (size_t)r;
  }
  /* Keep the lines up to the first empty one. */
  for (i = 0; i < got; i++)
    if (m->header.s[i] == '\n' && (!i || m->header.s[i-1] == '\n')) break;
  m->header.len = i;
  return 1;
}

int local_has_delivered_to(stralloc const *h, char const *addr)
{
  static char const name[] = "delivered-to:";
  size_t alen = strlen(addr), i = 0;
  while (i < h->len)
  {
    char const *s = h->s + i;
    char const *nl = memchr(s, '\n', h->len - i);
    size_t n = nl ? (size_t)(nl - s) : h->len - i;
    i += n + 1;
    if (n < sizeof name - 1 || strncasecmp(s, name, sizeof name - 1)) continue;
    s += sizeof name - 1; n -= sizeof name - 1;
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n-1] == ' ' || s[n-1] == '\t' || s[n-1] == '\r')) n--;
    if (n == alen && !strncasecmp(s, addr, n)) return 1;
  }
  return 0;
}

/* Appends s to a list of NUL-terminated strings unless it is there. */
static int add_unique(stralloc *list, char const *s)
{
  size_t i = 0;
  while (i < list->len)
  {
    if (!strcmp(list->s + i, s)) return 1;
    i += strlen(list->s + i) + 1;
  }
  return stralloc_cats(list, s) && stralloc_0(list);
}

typedef struct targets_s targets;
struct targets_s { stralloc maildirs, remote; };

static char fail(stralloc *text, char status, char const *a, char const *b)
{
  text->len = 0;
  stralloc_cats(text, a);
  stralloc_cats(text, b);
  stralloc_0(text);
  return status;
}

/* Resolves addr into Maildirs and remote addresses. self: addr is a target
 * of its own alias (keep a copy), so do not look it up as an alias again. */
static char expand(localmsg *m, char const *addr, unsigned int depth, int self, targets *t, stralloc *text)
{
  stralloc al = STRALLOC_ZERO, md = STRALLOC_ZERO, canon = STRALLOC_ZERO;
  size_t n, i;
  char st = 'K';
  int r = self ? 0 : users_alias(&al, &n, addr);
  if (r < 0) { st = fail(text, 'Z', "unable to read aliases.cdb for ", addr); goto end; }
  if (r)
  {
    if (!users_canon(&canon, addr)) { st = fail(text, 'Z', "out of memory", ""); goto end; }
    if (depth >= USERS_ALIAS_DEPTH) { st = fail(text, 'D', "5.4.6 aliases nested too deep at ", addr); goto end; }
    for (i = 0; i < al.len && st == 'K'; i += strlen(al.s + i) + 1)
    {
      char const *tg = al.s + i;
      if (users_is_local(&m->locals, tg))
        st = expand(m, tg, depth + 1, !strcasecmp(tg, canon.s), t, text);
      else if (!add_unique(&t->remote, tg)) st = fail(text, 'Z', "out of memory", "");
    }
    goto end;
  }
  r = users_maildir(&md, addr);
  if (r < 0) st = fail(text, 'Z', "unable to read users.cdb for ", addr);
  else if (!r) st = fail(text, 'D', "5.1.1 no such user here: ", addr);
  else if (!add_unique(&t->maildirs, md.s)) st = fail(text, 'Z', "out of memory", "");
 end:
  stralloc_free(&al); stralloc_free(&md); stralloc_free(&canon);
  return st;
}

/* Header lines we add, with controls in the addresses neutralised. */
static int add_line(stralloc *sa, char const *name, char const *v, int angle)
{
  size_t start;
  if (!stralloc_cats(sa, name) || (angle && !stralloc_catb(sa, "<", 1))) return 0;
  start = sa->len;
  if (!stralloc_cats(sa, v)) return 0;
  for (; start < sa->len; start++)
    if ((unsigned char)sa->s[start] < 32 || sa->s[start] == 127) sa->s[start] = '?';
  return (!angle || stralloc_catb(sa, ">", 1)) && stralloc_catb(sa, "\n", 1);
}

typedef struct fwd_s fwd;
struct fwd_s { localmsg *m; char const *hdr; size_t hdrlen; };

static int fwd_put(int fd, void *data)
{
  fwd *f = data;
  return allwrite(fd, f->hdr, f->hdrlen) == f->hdrlen && maildir_copy(fd, f->m->fd, f->m->msglen) > 0;
}

/* Queues the message anew for the remote targets of an alias, with the
 * original sender and our Delivered-To line (the loop check on the next hop). */
static char forward(localmsg *m, stralloc const *remote, char const *dt, size_t dtlen, stralloc *text)
{
  stralloc env = STRALLOC_ZERO;
  fwd f = { .m = m, .hdr = dt, .hdrlen = dtlen };
  size_t i;
  int code;
  if (!envelope_add_sender(&env, m->sender)) return fail(text, 'Z', "out of memory", "");
  for (i = 0; i < remote->len; i += strlen(remote->s + i) + 1)
    if (!envelope_add_rcpt(&env, remote->s + i)) { stralloc_free(&env); return fail(text, 'Z', "out of memory", ""); }
  if (!envelope_finish(&env)) { stralloc_free(&env); return fail(text, 'Z', "out of memory", ""); }
  code = qinject(m->queueprog, &fwd_put, &f, env.s, env.len);
  stralloc_free(&env);
  if (code < 0) return fail(text, 'Z', "unable to run the queue to forward: ", strerror(errno));
  if (code) return fail(text, code >= 11 && code <= 40 ? 'D' : 'Z', "forwarding failed: ", qinject_strexit(code));
  return 'K';
}

static char to_maildirs(localmsg *m, stralloc const *dirs, char const *hdr, size_t hdrlen, stralloc *text)
{
  stralloc name = STRALLOC_ZERO;
  size_t i;
  char st = 'K';
  for (i = 0; i < dirs->len && st == 'K'; i += strlen(dirs->s + i) + 1)
  {
    char const *what;
    if (maildir_deliver(dirs->s + i, hdr, hdrlen, m->fd, m->msglen, &name, &what) < 0)
    {
      char const *why = errno == ENOENT ? "no such Maildir" : strerror(errno);
      text->len = 0;
      stralloc_cats(text, "unable to ");
      stralloc_cats(text, what);
      stralloc_cats(text, " ");
      stralloc_cats(text, dirs->s + i);
      stralloc_cats(text, ": ");
      stralloc_cats(text, why);
      stralloc_0(text);
      st = 'Z';
    }
    else if (!stralloc_cats(text, i ? ", " : "delivered to ") || !stralloc_cats(text, dirs->s + i)
          || !stralloc_cats(text, "new/") || !stralloc_cats(text, name.s)) st = fail(text, 'Z', "out of memory", "");
  }
  stralloc_free(&name);
  return st;
}

char local_deliver(localmsg *m, char const *rcpt, stralloc *text)
{
  targets t = { STRALLOC_ZERO, STRALLOC_ZERO };
  stralloc canon = STRALLOC_ZERO, hdr = STRALLOC_ZERO, dt = STRALLOC_ZERO;
  char st;
  text->len = 0;
  if (!users_canon(&canon, rcpt)) return fail(text, 'Z', "out of memory", "");
  if (local_has_delivered_to(&m->header, canon.s))
  { st = fail(text, 'D', "5.4.6 mail loop: this message was already delivered to ", canon.s); goto end; }
  st = expand(m, canon.s, 0, 0, &t, text);
  if (st != 'K') goto end;
  if (!add_line(&dt, "Delivered-To: ", canon.s, 0)
   || !add_line(&hdr, "Return-Path: ", m->sender, 1) || !stralloc_catb(&hdr, dt.s, dt.len))
  { st = fail(text, 'Z', "out of memory", ""); goto end; }
  text->len = 0;
  if (t.maildirs.len) st = to_maildirs(m, &t.maildirs, hdr.s, hdr.len, text);
  if (st == 'K' && t.remote.len)
  {
    stralloc ft = STRALLOC_ZERO;
    st = forward(m, &t.remote, dt.s, dt.len, &ft);
    if (st != 'K') { text->len = 0; stralloc_catb(text, ft.s, ft.len); }
    else if (!stralloc_cats(text, t.maildirs.len ? "; forwarded" : "forwarded")) st = 'Z';
    stralloc_free(&ft);
  }
  if (text->len && text->s[text->len - 1]) stralloc_0(text);
 end:
  stralloc_free(&t.maildirs); stralloc_free(&t.remote);
  stralloc_free(&canon); stralloc_free(&hdr); stralloc_free(&dt);
  return st;
}
