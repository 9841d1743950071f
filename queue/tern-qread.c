/* tern-qread: lists queued messages and their pending recipients (like qmail-qread). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "queuefile.h"
#include "retryschedule.h"
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
static void put_date(char const *id)
{
  time_t t = 0;
  size_t i;
  for (i = 0; i < 8 && id[i]; i++)
    t = (t << 4) | (time_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
  put_time(t);
}

typedef struct listing_s listing;
struct listing_s
{
  stralloc locals;
  unsigned int retry[RETRYSCHEDULE_MAX];
  unsigned int nretry;
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

static void one(char const *dir, char const *name, void *data)
{
  listing const *l = data;
  stralloc p = STRALLOC_ZERO, env = STRALLOC_ZERO, texts = STRALLOC_ZERO;
  envelope e = ENVELOPE_ZERO;
  staterc *r = 0;
  uint64_t mlen;
  char fmt[UINT64_FMT];
  size_t i, n;
  int fd, bounced;
  (void)dir;
  if (!statefile_path(&p, "mess", name)) strerr_diefu(111, "allocate");
  fd = open_read(p.s);
  if (fd < 0) goto end;   /* delivered meanwhile */
  if (queuefile_read_envelope(fd, &env, &mlen) <= 0 || envelope_parse(&e, env.s, env.len, 1) <= 0)
  {
    fd_close(fd);
    strerr_warnw("malformed queue file ", p.s);
    goto end;
  }
  fd_close(fd);
  n = envelope_nrcpt(&e);
  r = calloc(n ? n : 1, sizeof *r);
  if (!r || !statefile_path(&p, "state", name)) strerr_diefu(111, "allocate");
  if (statefile_read(p.s, r, n, &texts, &bounced) < 0) strerr_warnwusys("read ", p.s);
  put_date(name);
  buffer_puts(buffer_1, "  #");
  buffer_puts(buffer_1, name);
  buffer_puts(buffer_1, "  ");
  buffer_put(buffer_1, fmt, uint64_fmt(fmt, mlen));
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
  PROG = "tern-qread";
  (void)argv;
  if (argc > 1) strerr_dieusage(100, USAGE);
  if (users_locals_load(&l.locals) < 0) strerr_diefusys(111, "read control/locals");
  if (retryschedule_load(l.retry, RETRYSCHEDULE_MAX, &l.nretry) < 0) strerr_diefusys(111, "read control/retryschedule");
  queue_each("mess", 0, &one, &l);
  if (!buffer_flush(buffer_1)) strerr_diefusys(111, "write to stdout");
  return 0;
}
