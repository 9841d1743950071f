/* tern-qsuper: deletes, holds and releases queued messages, by ID or by a
 * sender or recipient pattern, while tern-send runs (like postsuper).
 *
 * Interface: tern-qsuper -d|-h|-H [ -s PATTERN ] [ -r PATTERN ] [ ID... | ALL ]
 *   -d  delete: mess/HH/ID (or hold/HH/ID) and its state file are removed
 *   -h  hold: mess/HH/ID is renamed to hold/HH/ID; tern-send forgets it
 *   -H  release: hold/HH/ID is renamed back and tern-send told (trigger)
 * With -s/-r every message whose sender / one of whose recipients matches
 * the shell pattern (fnmatch, case-insensitive) is selected; with IDs only
 * those; ALL selects every message. docs/queue-admin.md has why this is
 * safe with tern-send running: each step is one rename or unlink, and
 * tern-send forgets a message it no longer finds.
 *
 * SECURITY: run by root or the queue user; it only renames and unlinks
 * names it builds from validated IDs under the queue, never follows a
 * name given by the caller. */
#define _GNU_SOURCE   /* FNM_CASEFOLD */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "envelope.h"
#include "queuectl.h"
#include "queuefile.h"
#include "queueid.h"
#include "statefile.h"

#define USAGE "tern-qsuper -d|-h|-H [ -s sender-pattern ] [ -r rcpt-pattern ] [ ID... | ALL ]"

typedef struct sel_s sel;
struct sel_s
{
  char op;                    /* 'd', 'h', 'H' */
  char const *spat, *rpat;
  int all;
  unsigned long done;
};

/* Does the queue file at path match the patterns? 1 yes, 0 no, -1 unreadable. */
static int matches(sel const *s, char const *path)
{
  stralloc env = STRALLOC_ZERO;
  envelope e = ENVELOPE_ZERO;
  uint64_t mlen;
  size_t i;
  int fd = open_read(path), r = -1;
  if (fd < 0) return -1;
  if (queuefile_read_envelope(fd, &env, &mlen) <= 0 || envelope_parse(&e, env.s, env.len, 1) <= 0) goto end;
  r = !s->spat || !fnmatch(s->spat, e.sender, FNM_CASEFOLD);
  if (r && s->rpat)
  {
    for (i = 0; i < envelope_nrcpt(&e); i++)
      if (!fnmatch(s->rpat, envelope_rcpt(&e, i), FNM_CASEFOLD)) break;
    r = i < envelope_nrcpt(&e);
  }
 end:
  fd_close(fd);
  envelope_free(&e);
  stralloc_free(&env);
  return r;
}

/* queue/hold and queue/hold/HH (path: queue/hold/HH/ID), owned as
 * queue/mess is when root makes them. */
static int mkdir_as(char const *dir, mode_t mode, struct stat const *st)
{
  if (mkdir(dir, mode) == 0) return geteuid() ? 0 : chown(dir, st->st_uid, st->st_gid);
  return errno == EEXIST ? 0 : -1;
}

static int hold_dir(char *path)
{
  stralloc m = STRALLOC_ZERO;
  struct stat st;
  char *hh = strrchr(path, '/'), *top;
  int r = -1;
  if (!tern_path(&m, "queue/mess") || stat(m.s, &st) < 0) goto end;
  *hh = 0;
  top = strrchr(path, '/');
  *top = 0;
  r = mkdir_as(path, 0750, &st);
  *top = '/';
  if (!r) r = mkdir_as(path, 0770, &st);
  *hh = '/';
 end:
  stralloc_free(&m);
  return r;
}

static void say(char const *id, char const *what)
{
  buffer_puts(buffer_1, id);
  buffer_puts(buffer_1, ": ");
  buffer_puts(buffer_1, what);
  buffer_puts(buffer_1, "\n");
}

/* Acts on message id, found in queue/FROM (mess or hold). 1 done, 0 not
 * selected or gone meanwhile. */
static int act(sel *s, char const *from, char const *id)
{
  stralloc p = STRALLOC_ZERO, t = STRALLOC_ZERO;
  int r = 0, m;
  if (!queueid_path(&p, from, id)) strerr_diefu(111, "allocate");
  m = (s->spat || s->rpat) ? matches(s, p.s) : 1;
  if (m <= 0) goto end;
  if (s->op == 'd')
  {
    if (unlink(p.s) < 0) { if (errno != ENOENT) strerr_warnwusys("remove ", p.s); goto end; }
    statefile_sync_parent(p.s);
    /* the records; tern-send removes them at its next start if we cannot */
    if (queueid_path(&t, "state", id) && unlink(t.s) < 0 && errno != ENOENT)
      strerr_warnwusys("remove ", t.s, " (tern-send removes it at its next start)");
    say(id, "deleted");
  }
  else
  {
    if (!queueid_path(&t, s->op == 'h' ? "hold" : "mess", id)) strerr_diefu(111, "allocate");
    if (s->op == 'h' && hold_dir(t.s) < 0) strerr_diefusys(111, "create the directory of ", t.s);
    if (s->op == 'H')
    {
      /* mess/HH may not exist yet: tern-queue makes it on first use */
      char *sl = strrchr(t.s, '/');
      *sl = 0;
      if (mkdir(t.s, 0770) < 0 && errno != EEXIST) strerr_diefusys(111, "create ", t.s);
      *sl = '/';
    }
    /* one rename: the message is in mess/ or in hold/, never in both or neither */
    if (rename(p.s, t.s) < 0) { if (errno != ENOENT) strerr_warnwusys("rename ", p.s, " to ", t.s); goto end; }
    statefile_sync_parent(p.s);
    statefile_sync_parent(t.s);
    if (s->op == 'H' && queuectl_trigger(id) < 0) strerr_warnwusys("tell tern-send about ", id, " (it finds it at its next scan)");
    say(id, s->op == 'h' ? "on hold" : "released");
  }
  s->done++;
  r = 1;
 end:
  stralloc_free(&p);
  stralloc_free(&t);
  return r;
}

typedef struct walk_s walk;
struct walk_s { sel *s; char const *from; };

static void each(char const *dir, char const *name, void *data)
{
  walk *w = data;
  (void)dir;
  if (queueid_ok(name)) act(w->s, w->from, name);
}

/* The directories an operation takes messages from. */
static char const *const *sources(char op)
{
  static char const *const d[] = { "mess", "hold", 0 };
  static char const *const h[] = { "mess", 0 };
  static char const *const r[] = { "hold", 0 };
  return op == 'd' ? d : op == 'h' ? h : r;
}

int main(int argc, char const *const *argv)
{
  sel s = { 0, 0, 0, 0, 0 };
  subgetopt l = SUBGETOPT_ZERO;
  char const *const *src;
  int missing = 0;
  char fmt[ULONG_FMT];
  PROG = "tern-qsuper";
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "dhHs:r:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 'd': case 'h': case 'H':
        if (s.op && s.op != opt) strerr_dief(100, "one of -d, -h, -H at a time");
        s.op = (char)opt;
        break;
      case 's': s.spat = l.arg; break;
      case 'r': s.rpat = l.arg; break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  argc -= l.ind; argv += l.ind;
  if (!s.op) strerr_dieusage(100, USAGE);
  if (argc == 1 && !strcmp(argv[0], "ALL")) { s.all = 1; argc = 0; }
  if (!argc && !s.all && !s.spat && !s.rpat) strerr_dief(100, "name the messages: IDs, ALL, -s or -r");
  {
    int i;
    for (i = 0; i < argc; i++) if (!queueid_ok(argv[i])) strerr_dief(100, "not a queue ID: ", argv[i]);
  }
  queuectl_require();
  src = sources(s.op);
  if (argc)
  {
    int i;
    for (i = 0; i < argc; i++)
    {
      size_t k;
      int found = 0;
      for (k = 0; src[k] && !found; k++) found = act(&s, src[k], argv[i]);
      if (!found && !s.spat && !s.rpat)
      {
        strerr_warnw(argv[i], s.op == 'H' ? ": not on hold" : ": not in the queue");
        missing = 1;
      }
    }
  }
  else
  {
    size_t k;
    for (k = 0; src[k]; k++)
    {
      walk w = { &s, src[k] };
      queueid_each(src[k], 0, &each, &w);
    }
  }
  if (!buffer_flush(buffer_1)) strerr_diefusys(111, "write to stdout");
  fmt[ulong_fmt(fmt, s.done)] = 0;
  strerr_warni(s.op == 'd' ? "deleted: " : s.op == 'h' ? "put on hold: " : "released: ", fmt,
               s.done == 1 ? " message" : " messages");
  return missing ? 100 : 0;
}
