/* local_deliver.c: one recipient of tern-local: expand, check, deliver. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "dataenc.h"
#include "envelope.h"
#include "maildir.h"
#include "qinject.h"
#include "users.h"
#include "local.h"

int local_read_header(localmsg *m)
{
  char buf[8192];
  stralloc text = STRALLOC_ZERO;
  dataenc e;
  uint64_t off = 0;
  int ret = 1;
  msghdr_init(&m->header);
  dataenc_init_lf(&e);
  /* the text as the Maildir gets it (NUL dropped, CR a line end), so the
   * lines read here are the lines delivered */
  while (off < m->msglen && !m->header.over && ret > 0)
  {
    uint64_t want = m->msglen - off;
    ssize_t r = pread(m->fd, buf, want < sizeof buf ? (size_t)want : sizeof buf, (off_t)off);
    if (r < 0) { if (errno == EINTR) continue; ret = -1; break; }
    if (!r) { errno = EPROTO; ret = -1; break; }
    off += (uint64_t)r;
    text.len = 0;
    if (!dataenc_put(&e, buf, (size_t)r, &text) || !msghdr_put(&m->header, text.s, text.len)) { errno = ENOMEM; ret = -1; }
  }
  if (ret > 0 && !msghdr_end(&m->header)) { errno = ENOMEM; ret = -1; }
  stralloc_free(&text);
  return ret;
}

/* Appends s to a list of NUL-terminated strings unless it is there.
 * 1 added, 2 already there, 0 out of memory. */
static int add_unique(stralloc *list, char const *s)
{
  size_t i = 0;
  while (i < list->len)
  {
    if (!strcmp(list->s + i, s)) return 2;
    i += strlen(list->s + i) + 1;
  }
  return stralloc_cats(list, s) && stralloc_0(list);
}

/* maildirs and owners are parallel lists: the address each Maildir was
 * found for, or "" for an alias's copy in its own Maildir (which cannot be
 * queued anew by address: that would expand the alias again). */
typedef struct targets_s targets;
struct targets_s { stralloc maildirs, owners, remote; };

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
  if (r < 0) { st = fail(text, 'Z', "unable to read the aliases (aliases.cdb or the database) for ", addr); goto end; }
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
  if (r < 0) st = fail(text, 'Z', "unable to read the users (users.cdb or the database) for ", addr);
  else if (!r) st = fail(text, 'D', "5.1.1 no such user here: ", addr);
  else
  {
    r = add_unique(&t->maildirs, md.s);
    if (!r || (r == 1 && (!stralloc_cats(&t->owners, self ? "" : addr) || !stralloc_0(&t->owners))))
      st = fail(text, 'Z', "out of memory", "");
  }
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

static void maildir_error(stralloc *text, char const *what, char const *dir)
{
  char const *why = errno == ENOENT ? "no such Maildir"
    : errno == ELOOP ? "a symbolic link or not a directory: refused"
    : errno == EPERM ? "not owned by the delivery user, or others may write it: refused"
    : strerror(errno);
  text->len = 0;
  stralloc_cats(text, "unable to ");
  stralloc_cats(text, what);
  stralloc_cats(text, " ");
  stralloc_cats(text, dir);
  stralloc_cats(text, ": ");
  stralloc_cats(text, why);
  stralloc_0(text);
}

/* Writes every Maildir of t. When some fail after others were written, the
 * owners of the failed ones join t->remote, to be queued anew with the
 * rest: retrying the whole recipient would give the written ones a copy at
 * every retry (a big alias with one full Maildir). */
static char to_maildirs(localmsg *m, targets *t, char const *hdr, size_t hdrlen, stralloc *text)
{
  stralloc name = STRALLOC_ZERO, err = STRALLOC_ZERO, done = STRALLOC_ZERO, requeue = STRALLOC_ZERO;
  size_t i, o = 0;
  int self_failed = 0;
  char st = 'K';
  for (i = 0; i < t->maildirs.len; i += strlen(t->maildirs.s + i) + 1, o += strlen(t->owners.s + o) + 1)
  {
    char const *what, *dir = t->maildirs.s + i, *owner = t->owners.s + o;
    if (maildir_deliver(dir, hdr, hdrlen, m->fd, m->msglen, &name, &what) < 0)
    {
      if (!err.len) maildir_error(&err, what, dir);
      if (!*owner) self_failed = 1;
      else if (!stralloc_cats(&requeue, owner) || !stralloc_0(&requeue)) st = 'Z';
    }
    else if (!stralloc_cats(&done, done.len ? ", " : "delivered to ") || !stralloc_cats(&done, dir)
          || !stralloc_cats(&done, "new/") || !stralloc_cats(&done, name.s)) st = 'Z';
  }
  text->len = 0;
  if (st != 'K') st = fail(text, 'Z', "out of memory", "");
  else if (err.len && (!done.len || self_failed))
  { st = 'Z'; stralloc_catb(text, err.s, err.len); }   /* nothing written, or not requeueable: retry it all */
  else
  {
    stralloc_catb(text, done.s, done.len);
    if (err.len)
    {
      for (i = 0; i < requeue.len; i += strlen(requeue.s + i) + 1)
        if (!add_unique(&t->remote, requeue.s + i)) st = 'Z';
      stralloc_cats(text, "; queued anew for the Maildirs that failed (");
      stralloc_catb(text, err.s, err.len - 1);
      stralloc_cats(text, ")");
    }
    /* not NUL-terminated yet: local_deliver may add "; forwarded" */
    if (st != 'K') st = fail(text, 'Z', "out of memory", "");
  }
  stralloc_free(&name); stralloc_free(&err); stralloc_free(&done); stralloc_free(&requeue);
  return st;
}

char local_deliver(localmsg *m, char const *rcpt, stralloc *text)
{
  targets t = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO };
  stralloc canon = STRALLOC_ZERO, hdr = STRALLOC_ZERO, dt = STRALLOC_ZERO;
  char st;
  text->len = 0;
  if (!users_canon(&canon, rcpt)) return fail(text, 'Z', "out of memory", "");
  if (msghdr_delivered_to(&m->header, canon.s))
  { st = fail(text, 'D', "5.4.6 mail loop: this message was already delivered to ", canon.s); goto end; }
  st = expand(m, canon.s, 0, 0, &t, text);
  if (st != 'K') goto end;
  if (!add_line(&dt, "Delivered-To: ", canon.s, 0)
   || !add_line(&hdr, "Return-Path: ", m->sender, 1) || !stralloc_catb(&hdr, dt.s, dt.len))
  { st = fail(text, 'Z', "out of memory", ""); goto end; }
  text->len = 0;
  if (t.maildirs.len) st = to_maildirs(m, &t, hdr.s, hdr.len, text);
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
  stralloc_free(&t.maildirs); stralloc_free(&t.owners); stralloc_free(&t.remote);
  stralloc_free(&canon); stralloc_free(&hdr); stralloc_free(&dt);
  return st;
}
