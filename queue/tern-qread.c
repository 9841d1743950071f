/* tern-qread: lists queued messages and their pending recipients (like
 * qmail-qread and Postfix's mailq; docs/queue-admin.md has the format). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "envelope.h"
#include "queuectl.h"
#include "queuefile.h"
#include "retryschedule.h"
#include "queueid.h"
#include "statefile.h"
#include "users.h"

#define USAGE "tern-qread"

static void put_clean(char const *s)
{
  for (; *s; s++)
  {
    char c = ((unsigned char)*s < 32 || *s == 127) ? '?' : *s;
    buffer_put(buffer_1, &c, 1);
  }
}

static void put_time(time_t t)
{
  char buf[64];
  struct tm tm;
  size_t n = 0;
  if (gmtime_r(&t, &tm)) n = strftime(buf, sizeof buf, "%d %b %Y %H:%M:%S GMT", &tm);
  buffer_put(buffer_1, buf, n);
}

/* The arrival time: the first 8 hex digits of the ID. */
static time_t id_time(char const *id)
{
  time_t t = 0;
  size_t i;
  for (i = 0; i < 8 && id[i]; i++)
    t = (t << 4) | (time_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
  return t;
}

typedef struct listing_s listing;
struct listing_s
{
  stralloc locals;
  unsigned int retry[RETRYSCHEDULE_MAX];
  unsigned int nretry;
  unsigned long n;
  uint64_t kbytes;
  char const *dir;    /* "mess" or "hold" */
};

static void rcpt_line(listing const *l, char const *addr, staterc const *r, stralloc const *texts)
{
  char fmt[UINT_FMT];
  buffer_puts(buffer_1, users_is_local(&l->locals, addr) ? "\tlocal\t" : "\tremote\t");
  put_clean(addr);
  if (r->tries)
  {
    buffer_puts(buffer_1, "\t(");
    buffer_put(buffer_1, fmt, uint_fmt(fmt, r->tries));
    buffer_puts(buffer_1, r->tries == 1 ? " try" : " tries");
    /* when tern-send tries again: the same sum as its scheduler's */
    buffer_puts(buffer_1, "; next: ");
    put_time((time_t)(r->last + retryschedule_delay(l->retry, l->nretry, r->tries)));
    if (r->text != (size_t)-1) { buffer_puts(buffer_1, "; last: "); put_clean(texts->s + r->text); }
    buffer_puts(buffer_1, ")");
  }
  buffer_puts(buffer_1, "\n");
}

/* The message's next try: the earliest of its pending recipients'; 0 now. */
static uint64_t next_try(listing const *l, staterc const *r, size_t n)
{
  uint64_t next = (uint64_t)-1;
  size_t i;
  for (i = 0; i < n; i++)
  {
    uint64_t t;
    if (r[i].status == 'K' || r[i].status == 'D') continue;
    t = r[i].tries ? r[i].last + retryschedule_delay(l->retry, l->nretry, r[i].tries) : 0;
    if (t < next) next = t;
  }
  return next == (uint64_t)-1 ? 0 : next;
}

static void header(listing *l)
{
  if (l->n++) return;
  buffer_puts(buffer_1, "Queue ID          Size      Arrival                   Next try                  Sender, then pending recipients\n");
}

static void one(char const *dir, char const *name, void *data)
{
  listing *l = data;
  stralloc p = STRALLOC_ZERO, env = STRALLOC_ZERO, texts = STRALLOC_ZERO;
  envelope e = ENVELOPE_ZERO;
  staterc *r = 0;
  uint64_t mlen, next;
  char fmt[UINT64_FMT];
  size_t i, n, w;
  int fd, bounced;
  (void)dir;
  if (!queueid_ok(name)) return;
  if (!queueid_path(&p, l->dir, name)) strerr_diefu(111, "allocate");
  fd = open_read(p.s);
  if (fd < 0) { if (errno != ENOENT) strerr_warnwusys("open ", p.s); goto end; }   /* ENOENT: delivered meanwhile */
  if (queuefile_read_envelope(fd, &env, &mlen) <= 0 || envelope_parse(&e, env.s, env.len, 1) <= 0)
  {
    fd_close(fd);
    strerr_warnw("malformed queue file ", p.s);
    goto end;
  }
  fd_close(fd);
  n = envelope_nrcpt(&e);
  r = calloc(n ? n : 1, sizeof *r);
  if (!r || !queueid_path(&p, "state", name)) strerr_diefu(111, "allocate");
  if (statefile_read(p.s, r, n, &texts, &bounced) < 0) strerr_warnwusys("read ", p.s);
  header(l);
  l->kbytes += (mlen + 1023) / 1024;
  buffer_puts(buffer_1, name);
  w = uint64_fmt(fmt, mlen);
  buffer_puts(buffer_1, "  ");
  buffer_put(buffer_1, fmt, w);
  for (; w < 8; w++) buffer_puts(buffer_1, " ");
  buffer_puts(buffer_1, "  ");
  put_time(id_time(name));
  buffer_puts(buffer_1, "  ");
  next = next_try(l, r, n);
  if (!strcmp(l->dir, "hold")) buffer_puts(buffer_1, "on hold                 ");
  else if (!next || next <= (uint64_t)time(0)) buffer_puts(buffer_1, "now                     ");
  else put_time((time_t)next);
  buffer_puts(buffer_1, "  <");
  put_clean(e.sender);
  buffer_puts(buffer_1, ">\n");
  for (i = 0; i < n; i++)
    if (r[i].status != 'K' && r[i].status != 'D') rcpt_line(l, envelope_rcpt(&e, i), r + i, &texts);
 end:
  free(r);
  envelope_free(&e);
  stralloc_free(&p); stralloc_free(&env); stralloc_free(&texts);
}

int main(int argc, char const *const *argv)
{
  listing l = { .locals = STRALLOC_ZERO };
  char fmt[UINT64_FMT];
  PROG = "tern-qread";
  (void)argv;
  if (argc > 1) strerr_dieusage(100, USAGE);
  /* an empty listing must mean an empty queue, not the wrong instance */
  queuectl_require();
  if (users_locals_load(&l.locals) < 0) strerr_diefusys(111, "read ", tern_home(), "/control/locals");
  if (retryschedule_load(l.retry, RETRYSCHEDULE_MAX, &l.nretry) < 0)
    strerr_diefusys(111, "read ", tern_home(), "/control/retryschedule");
  l.dir = "mess";
  queueid_each("mess", 0, &one, &l);
  l.dir = "hold";
  queueid_each("hold", 0, &one, &l);
  if (!l.n) buffer_puts(buffer_1, "Mail queue is empty\n");
  else
  {
    buffer_puts(buffer_1, "-- ");
    buffer_put(buffer_1, fmt, uint64_fmt(fmt, l.kbytes));
    buffer_puts(buffer_1, " Kbytes in ");
    buffer_put(buffer_1, fmt, uint64_fmt(fmt, (uint64_t)l.n));
    buffer_puts(buffer_1, l.n == 1 ? " Request.\n" : " Requests.\n");
  }
  if (!buffer_flush(buffer_1)) strerr_diefusys(111, "write to stdout");
  return 0;
}
