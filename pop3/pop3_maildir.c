/* pop3_maildir.c: the Maildir as a POP3 mailbox: new/ moved into cur/, the
 * list of messages with sizes and unique ids, deletions at QUIT. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/direntry.h>
#include <skalibs/types.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/sha256.h>
#include "pop3.h"

/* A Maildir file name we will touch: not hidden, no '/'. */
static int good_name(char const *f)
{
  return f[0] && f[0] != '.' && !strchr(f, '/');
}

/* new/X -> cur/X,W=N:2, (Maildir: a message a client has seen lives in
 * cur/, with an info suffix). ",W=N" (Dovecot's convention) records the
 * size POP3 reports, so later logins need not read the file again; it is
 * part of the unique id from the first listing on. A failed rename leaves
 * the message for next time. 1 done or skipped, 0 out of memory. */
static int move_one(char const *f, stralloc *from, stralloc *to)
{
  uint64_t size;
  char w[UINT64_FMT];
  from->len = to->len = 0;
  if (!stralloc_cats(from, "new/") || !stralloc_cats(from, f) || !stralloc_0(from)
   || !stralloc_cats(to, "cur/") || !stralloc_cats(to, f)) return 0;
  if (!strstr(f, ",W=") && pop3_msg_size(from->s, f, &size) > 0)
  {
    w[uint64_fmt(w, size)] = 0;
    if (!stralloc_cats(to, ",W=") || !stralloc_cats(to, w)) return 0;
  }
  if (!stralloc_cats(to, ":2,") || !stralloc_0(to)) return 0;
  /* ENOENT: another session moved it first. */
  if (rename(from->s, to->s) < 0 && errno != ENOENT)
    strerr_warnwusys("move ", from->s, " to ", to->s, ": not listed this time");
  return 1;
}

static int move_new(void)
{
  stralloc from = STRALLOC_ZERO, to = STRALLOC_ZERO;
  DIR *dh = opendir("new");
  int e;
  if (!dh) return -1;
  for (;;)
  {
    direntry *d;
    errno = 0;
    d = readdir(dh);
    if (!d) break;
    if (!good_name(d->d_name) || strchr(d->d_name, ':')) continue;
    if (!move_one(d->d_name, &from, &to)) { errno = ENOMEM; break; }
  }
  e = errno;
  closedir(dh);
  stralloc_free(&from); stralloc_free(&to);
  errno = e;
  return e ? -1 : 1;
}

void pop3_uid(char *uid, char const *f)
{
  size_t n = strcspn(f, ":"), i;
  int ok = n > 0 && n <= 70;
  for (i = 0; ok && i < n; i++)
    if ((unsigned char)f[i] < 0x21 || (unsigned char)f[i] > 0x7e) ok = 0;
  if (ok) { memcpy(uid, f, n); uid[n] = 0; return; }
  /* A name too long or with odd bytes: its hash is stable across sessions,
   * which is all UIDL needs. */
  {
    SHA256Schedule ctx = SHA256_INIT();
    unsigned char h[32];
    static char const hex[] = "0123456789abcdef";
    sha256_update(&ctx, f, n);
    sha256_final(&ctx, (char *)h);
    for (i = 0; i < 32; i++) { uid[2*i] = hex[h[i] >> 4]; uid[2*i+1] = hex[h[i] & 15]; }
    uid[64] = 0;
  }
}

static int add_msg(pop3_box *b, char const *f)
{
  pop3_msg m;
  struct stat st;
  size_t off = b->names.len;
  if (!stralloc_cats(&b->names, "cur/") || !stralloc_cats(&b->names, f) || !stralloc_0(&b->names)) return -1;
  if (lstat(b->names.s + off, &st) < 0 || !S_ISREG(st.st_mode)
   || pop3_msg_size(b->names.s + off, f, &m.size) < 0)
  {
    b->names.len = off;      /* gone meanwhile, or not a message: skip it */
    return 0;
  }
  m.name = off;
  m.mtime = st.st_mtime;
  m.deleted = 0;
  pop3_uid(m.uid, f);
  return genalloc_append(pop3_msg, &b->msgs, &m) ? 1 : -1;
}

static int by_age(void const *a, void const *b)
{
  pop3_msg const *x = a, *y = b;
  if (x->mtime != y->mtime) return x->mtime < y->mtime ? -1 : 1;
  return strcmp(x->path, y->path);
}

int pop3_box_scan(pop3_box *b, unsigned int max)
{
  DIR *dh;
  size_t i;
  int e;
  if (move_new() < 0) return -1;
  dh = opendir("cur");
  if (!dh) return -1;
  for (;;)
  {
    direntry *d;
    errno = 0;
    d = readdir(dh);
    if (!d) break;
    if (good_name(d->d_name) && add_msg(b, d->d_name) < 0) break;
  }
  e = errno;
  closedir(dh);
  if (e) { errno = e; return -1; }
  /* names has stopped growing: pointers into it are stable now. */
  for (i = 0; i < pop3_box_n(b); i++) pop3_box_msg(b, i)->path = b->names.s + pop3_box_msg(b, i)->name;
  if (pop3_box_n(b) > 1)
    qsort(genalloc_s(pop3_msg, &b->msgs), pop3_box_n(b), sizeof(pop3_msg), by_age);
  /* The oldest max messages; the rest wait for a later session. */
  if (pop3_box_n(b) > max) genalloc_setlen(pop3_msg, &b->msgs, max);
  return 1;
}

unsigned int pop3_box_commit(pop3_box *b)
{
  unsigned int failed = 0;
  size_t i, n = pop3_box_n(b);
  for (i = 0; i < n; i++)
  {
    pop3_msg *m = pop3_box_msg(b, i);
    if (m->deleted && unlink(m->path) < 0 && errno != ENOENT) failed++;
  }
  return failed;
}

void pop3_box_free(pop3_box *b)
{
  stralloc_free(&b->names);
  genalloc_free(pop3_msg, &b->msgs);
}
