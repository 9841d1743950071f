/* rpt_mail.c: the report mail (RFC 8460 5.3) and its hand-off to tern-inject (rpt.h). */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/random.h>
#include <skalibs/types.h>
#include "b64.h"
#include "pspawn.h"
#include "rpt.h"

/* A header value: what is not printable ASCII becomes '?' (control files
 * are the admin's, but a header must stay one line). */
static int hval(stralloc *sa, char const *s)
{
  for (; *s; s++)
  {
    char c = (unsigned char)*s < 32 || (unsigned char)*s > 126 ? '?' : *s;
    if (!stralloc_catb(sa, &c, 1)) return 0;
  }
  return 1;
}

static int hdr(stralloc *sa, char const *name, char const *v)
{
  return stralloc_cats(sa, name) && stralloc_cats(sa, ": ") && hval(sa, v) && stralloc_cats(sa, "\n");
}

/* Seconds of 00:00:00 UTC of day (YYYY-MM-DD), and of its last second. */
static int day_span(char const *day, uint64_t *b, uint64_t *e)
{
  struct tm tm;
  unsigned int y, m, d;
  time_t t;
  memset(&tm, 0, sizeof tm);
  if (uint_scan(day, &y) != 4 || uint_scan(day + 5, &m) != 2 || uint_scan(day + 8, &d) != 2) return 0;
  tm.tm_year = (int)y - 1900; tm.tm_mon = (int)m - 1; tm.tm_mday = (int)d;
  t = timegm(&tm);
  if (t == (time_t)-1) return 0;
  *b = (uint64_t)t;
  *e = (uint64_t)t + 86399;
  return 1;
}

static int counts(stralloc *sa, unsigned long ok, unsigned long failed)
{
  char fmt[ULONG_FMT];
  return stralloc_catb(sa, fmt, ulong_fmt(fmt, ok)) && stralloc_cats(sa, " successful and ")
      && stralloc_catb(sa, fmt, ulong_fmt(fmt, failed)) && stralloc_cats(sa, " failed TLS sessions.\n");
}

int rpt_message(stralloc *sa, rptconf const *c, char const *domain, char const *day, char const *id,
                stralloc const *json, char const *rua, size_t nrua, unsigned long ok, unsigned long failed)
{
  char bnd[40], rnd[8], fmt[UINT64_FMT];
  stralloc b64 = STRALLOC_ZERO, t = STRALLOC_ZERO;
  uint64_t b, e;
  size_t i, k;
  int r = 0;
  random_buf(rnd, sizeof rnd);
  memcpy(bnd, "tern-tlsrpt-", 12);
  for (i = 0; i < sizeof rnd; i++)
  {
    bnd[12 + 2 * i] = "0123456789abcdef"[(unsigned char)rnd[i] >> 4];
    bnd[13 + 2 * i] = "0123456789abcdef"[rnd[i] & 15];
  }
  bnd[12 + 2 * sizeof rnd] = 0;
  if (!day_span(day, &b, &e)) return 0;
  /* Subject and To, then the RFC 8460 5.3 fields */
  if (!hdr(sa, "From", c->from.s) || !stralloc_cats(sa, "To: ")) goto end;
  for (i = 0, k = 0; i < nrua; i++, k += strlen(rua + k) + 1)
    if ((i && !stralloc_cats(sa, ",\n ")) || !hval(sa, rua + k)) goto end;
  if (!stralloc_cats(sa, "\n")) goto end;
  if (!stralloc_cats(&t, "Report Domain: ") || !stralloc_cats(&t, domain) || !stralloc_cats(&t, " Submitter: ")
   || !stralloc_cats(&t, c->me.s) || !stralloc_cats(&t, " Report-ID: <") || !stralloc_cats(&t, id)
   || !stralloc_cats(&t, ">") || !stralloc_0(&t) || !hdr(sa, "Subject", t.s)
   || !hdr(sa, "TLS-Report-Domain", domain) || !hdr(sa, "TLS-Report-Submitter", c->me.s)
   || !stralloc_cats(sa, "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=\"tlsrpt\";\n boundary=\"")
   || !stralloc_cats(sa, bnd) || !stralloc_cats(sa, "\"\n\nThis is an SMTP TLS report (RFC 8460) in MIME format.\n\n--")
   || !stralloc_cats(sa, bnd) || !stralloc_cats(sa, "\nContent-Type: text/plain; charset=us-ascii\n\n")
   || !stralloc_cats(sa, "This is an aggregate TLS report (RFC 8460) from ") || !hval(sa, c->me.s)
   || !stralloc_cats(sa, " for ") || !stralloc_cats(sa, domain) || !stralloc_cats(sa, ", ")
   || !stralloc_catb(sa, day, 10) || !stralloc_cats(sa, " (UTC):\n") || !counts(sa, ok, failed)
   || !stralloc_cats(sa, "\n--") || !stralloc_cats(sa, bnd)
   || !stralloc_cats(sa, "\nContent-Type: application/tlsrpt+json\nContent-Transfer-Encoding: base64\n"
                         "Content-Disposition: attachment;\n filename=\"")
   || !hval(sa, c->me.s) || !stralloc_cats(sa, "!") || !stralloc_cats(sa, domain) || !stralloc_cats(sa, "!")
   || !stralloc_catb(sa, fmt, uint64_fmt(fmt, b)) || !stralloc_cats(sa, "!")
   || !stralloc_catb(sa, fmt, uint64_fmt(fmt, e)) || !stralloc_cats(sa, ".json\"\n\n")
   || !b64_encode(&b64, json->s, json->len)) goto end;
  /* lines of 76, as MIME wants */
  for (i = 0; i < b64.len; i += 76)
    if (!stralloc_catb(sa, b64.s + i, b64.len - i < 76 ? b64.len - i : 76) || !stralloc_cats(sa, "\n")) goto end;
  r = stralloc_cats(sa, "\n--") && stralloc_cats(sa, bnd) && stralloc_cats(sa, "--\n");
 end:
  stralloc_free(&b64);
  stralloc_free(&t);
  return r;
}

int rpt_send(rptconf const *c, stralloc const *msg, char const *rua, size_t nrua, stralloc *why)
{
  char const *argv[5 + TLSRPT_RUA_MAX + 1];
  char fmt[INT_FMT];
  int p[2], status;
  size_t i, k, n = 0;
  pid_t pid;
  ssize_t w;
  argv[n++] = "tern-inject";
  argv[n++] = "-f";
  argv[n++] = c->from.s;
  argv[n++] = "--";   /* the addresses come from DNS: never options */
  for (i = 0, k = 0; i < nrua && i < TLSRPT_RUA_MAX; i++, k += strlen(rua + k) + 1) argv[n++] = rua + k;
  argv[n] = 0;
  why->len = 0;
  if (pipecoe(p) < 0) { stralloc_cats(why, "cannot make a pipe"); goto fail; }
  /* tern-inject's own messages go to our log */
  pid = pspawn_fd01(argv, p[0], 2);
  fd_close(p[0]);
  if (pid < 0) { fd_close(p[1]); stralloc_cats(why, "cannot run tern-inject"); goto fail; }
  w = allwrite(p[1], msg->s, msg->len);
  fd_close(p[1]);
  if (waitpid_nointr(pid, &status, 0) != pid) { stralloc_cats(why, "lost tern-inject"); goto fail; }
  if (WIFEXITED(status) && !WEXITSTATUS(status) && (size_t)w == msg->len) return 0;
  stralloc_cats(why, "tern-inject ");
  if (WIFEXITED(status)) stralloc_cats(why, "exited "), stralloc_catb(why, fmt, int_fmt(fmt, WEXITSTATUS(status)));
  else stralloc_cats(why, "was killed");
  stralloc_0(why);
  return WIFEXITED(status) && WEXITSTATUS(status) == 100 ? 1 : -1;
 fail:
  if (errno && stralloc_cats(why, ": ")) stralloc_cats(why, strerror(errno));
  stralloc_0(why);
  return -1;
}
