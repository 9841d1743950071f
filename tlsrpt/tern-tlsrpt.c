/* tern-tlsrpt.c: sends the SMTP TLS reports (RFC 8460) of the days
 * tern-remote recorded, and sweeps the expired MTA-STS cache entries.
 *
 * Interface: tern-tlsrpt [-n] [-S]. Every complete day (before today, UTC)
 * in $TERN_HOME/tlsrpt/YYYY-MM-DD (remote/remote_tlsrpt.h): for each
 * recipient domain in it whose _smtp._tls TXT record (v=TLSRPTv1) names
 * mailto: addresses, the aggregate JSON report goes out through
 * tern-inject as a multipart/report; report-type="tlsrpt" mail. A domain
 * sent is noted in YYYY-MM-DD.sent, so a run cut short or a DNS or queue
 * failure sends nobody the same report twice; a day is removed once every
 * domain is done, or after control/tlsrptkeepdays days. https: addresses
 * are skipped with a log line. Then the expired entries of $TERN_HOME/mtasts
 * are removed (not with -S). -n: print the reports on stdout, send and
 * remove nothing. Run it daily or more often (docs/tlsrpt.md): it only
 * reports finished days. Exit 0 done, 111 something is left for the next
 * run (a log line says what), 100 usage.
 *
 * SECURITY: runs as the remote-delivery user (the owner of tlsrpt/ and
 * mtasts/), with no privilege beyond reading and removing those files; it
 * queues mail only through tern-inject, as any local user can. The records
 * are parsed field by field (lib/tlsrpt.c); the TXT record comes from DNS
 * and is untrusted: only a checked mailto address reaches tern-inject's
 * argv (no shell anywhere), at most TLSRPT_RUA_MAX of them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/random.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "mtasts.h"
#include "qinject.h"
#include "rpt.h"

char const *PROG = "tern-tlsrpt";
#define USAGE "tern-tlsrpt [ -n ] [ -S ]"

typedef struct run_s run;
struct run_s
{
  rptconf c;
  int dry;
  stralloc dir;     /* HOME/tlsrpt/ */
};

static void conf_load(rptconf *c)
{
  if (control_readline(&c->me, "me") <= 0) strerr_dief(111, "control/me is missing or unreadable");
  if (control_readline(&c->org, "tlsrptorg") <= 0 && !stralloc_copy(&c->org, &c->me)) strerr_diefu(111, "allocate");
  if (control_readline(&c->from, "tlsrptfrom") <= 0)
    if (!stralloc_copys(&c->from, "postmaster@") || !stralloc_cat(&c->from, &c->me)) strerr_diefu(111, "allocate");
  if (control_readline(&c->contact, "tlsrptcontact") <= 0 && !stralloc_copy(&c->contact, &c->from))
    strerr_diefu(111, "allocate");
  if (control_readuint(&c->timeout, "tlsrpttimeout", RPT_TIMEOUT_DEFAULT) < 0
   || control_readuint(&c->keepdays, "tlsrptkeepdays", RPT_KEEPDAYS_DEFAULT) < 0
   || control_readuint(&c->maxbytes, "tlsrptmaxbytes", RPT_MAXBYTES_DEFAULT) < 0)
    strerr_dief(111, "control/tlsrpttimeout, tlsrptkeepdays or tlsrptmaxbytes is not a number");
  if (!c->timeout) c->timeout = 1;
  if (c->maxbytes > RPT_MAXBYTES_CAP) c->maxbytes = RPT_MAXBYTES_CAP;
  if (strchr(c->from.s, ' ') || !strchr(c->from.s, '@')) strerr_dief(111, "control/tlsrptfrom is not an address");
}

/* dir + name (+ suffix), NUL-terminated. */
static void pathof(stralloc *sa, run const *r, char const *name, char const *suffix)
{
  sa->len = 0;
  if (!stralloc_cat(sa, &r->dir) || !stralloc_cats(sa, name) || !stralloc_cats(sa, suffix ? suffix : "")
   || !stralloc_0(sa)) strerr_diefu(111, "allocate");
}

/* "YYYY-MM-DD" followed by suffix. */
static int is_day(char const *s, char const *suffix)
{
  static char const shape[] = "dddd-dd-dd";
  size_t i;
  for (i = 0; i < 10; i++)
    if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != '-') return 0;
  return !strcmp(s + 10, suffix);
}

/* A DAY.sent whose day is gone (a crash between the two unlinks of do_day). */
static void drop_orphan(run const *r, char const *name)
{
  stralloc p = STRALLOC_ZERO;
  char day[11];
  memcpy(day, name, 10);
  day[10] = 0;
  pathof(&p, r, day, 0);
  if (access(p.s, F_OK) < 0 && errno == ENOENT)
  {
    pathof(&p, r, name, 0);
    if (unlink(p.s) < 0 && errno != ENOENT) strerr_warnwusys("remove ", p.s);
  }
  stralloc_free(&p);
}

static void day_of(char *day, time_t t)
{
  struct tm tm;
  if (!gmtime_r(&t, &tm) || strftime(day, 11, "%Y-%m-%d", &tm) != 10) strerr_diefu(111, "get the date");
}

/* Is domain among the NUL-terminated lines of sent? */
static int was_sent(stralloc const *sent, char const *domain)
{
  size_t i = 0;
  while (i < sent->len)
  {
    if (!strcmp(sent->s + i, domain)) return 1;
    i += strlen(sent->s + i) + 1;
  }
  return 0;
}

static void mark_sent(char const *path, char const *domain)
{
  stralloc line = STRALLOC_ZERO;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || !stralloc_cats(&line, domain) || !stralloc_cats(&line, "\n")
   || allwrite(fd, line.s, line.len) != line.len || fsync(fd) < 0)
    strerr_warnwusys("note in ", path, " that the report for ", domain, " was sent (it may go twice)");
  if (fd >= 0) fd_close(fd);
  stralloc_free(&line);
}

/* The report-id: DAY, 8 random bytes in hex, @me. */
static void report_id(stralloc *sa, rptconf const *c, char const *day)
{
  char rnd[8], hex[17];
  size_t i;
  random_buf(rnd, sizeof rnd);
  for (i = 0; i < sizeof rnd; i++)
  {
    hex[2 * i] = "0123456789abcdef"[(unsigned char)rnd[i] >> 4];
    hex[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
  }
  hex[16] = 0;
  sa->len = 0;
  if (!stralloc_catb(sa, day, 10) || !stralloc_cats(sa, ".") || !stralloc_cats(sa, hex)
   || !stralloc_cats(sa, "@") || !stralloc_cat(sa, &c->me) || !stralloc_0(sa)) strerr_diefu(111, "allocate");
}

/* One domain's report: 1 done (sent, or nothing to send), 0 left for the next run. */
static int domain_report(run *r, char const *day, char const *sentpath, tlsrpt_rec const *rec, size_t n)
{
  stralloc rua = STRALLOC_ZERO, why = STRALLOC_ZERO, json = STRALLOC_ZERO, msg = STRALLOC_ZERO, id = STRALLOC_ZERO;
  char const *domain = rec[0].domain;
  unsigned int https = 0;
  unsigned long ok, failed;
  size_t nrua = 0, i;
  int t = rpt_lookup(domain, r->c.timeout, &rua, &https, &why), done = 1;
  if (t < 0) { strerr_warnw("report for ", domain, " left for the next run: ", why.s); done = 0; goto end; }
  if (!t) goto end;   /* no TLSRPT record: nothing to send */
  for (i = 0; i < rua.len; i += strlen(rua.s + i) + 1) nrua++;
  if (https) strerr_warni("report for ", domain, ": https reporting addresses are not supported, skipped");
  if (!nrua) goto end;
  report_id(&id, &r->c, day);
  if (!rpt_json(&json, &r->c, day, id.s, rec, n, &ok, &failed)
   || !rpt_message(&msg, &r->c, domain, day, id.s, &json, rua.s, nrua, ok, failed)) strerr_diefu(111, "allocate");
  if (r->dry) { if (allwrite(1, msg.s, msg.len) != msg.len) strerr_diefusys(111, "write to stdout"); goto end; }
  t = rpt_send(&r->c, &msg, rua.s, nrua, &why);
  if (t < 0) { strerr_warnw("report for ", domain, " left for the next run: ", why.s); done = 0; goto end; }
  if (t > 0) strerr_warnw("report for ", domain, " refused, dropped: ", why.s);
  else
  {
    char f1[ULONG_FMT], f2[ULONG_FMT];
    f1[ulong_fmt(f1, ok)] = 0;
    f2[ulong_fmt(f2, failed)] = 0;
    strerr_warni("report for ", domain, " of ", day, " sent to ", rua.s, nrua > 1 ? " and others" : "",
                 ": ", f1, " successful, ", f2, " failed sessions");
  }
  mark_sent(sentpath, domain);
 end:
  stralloc_free(&rua); stralloc_free(&why); stralloc_free(&json); stralloc_free(&msg); stralloc_free(&id);
  return done;
}

/* Reports one day; 1 done (the day is removed), 0 something is left. */
static int do_day(run *r, char const *day, char const *oldest)
{
  stralloc path = STRALLOC_ZERO, sentpath = STRALLOC_ZERO, sent = STRALLOC_ZERO;
  rptday d = RPTDAY_ZERO;
  size_t i, j, n, left = 0;
  tlsrpt_rec const *rec;
  pathof(&path, r, day, 0);
  pathof(&sentpath, r, day, ".sent");
  if (!rptday_load(&d, path.s, r->c.maxbytes)) { strerr_warnwusys("read ", path.s); left = 1; goto end; }
  if (d.truncated) strerr_warnw(path.s, " is larger than control/tlsrptmaxbytes: the rest is not reported");
  if (d.bad)
  {
    char fmt[SIZE_FMT];
    fmt[size_fmt(fmt, d.bad)] = 0;
    strerr_warnw(path.s, ": ", fmt, " lines that are not records skipped");
  }
  if (control_readlines_path(&sent, sentpath.s) < 0) strerr_diefusys(111, "read ", sentpath.s);
  rec = genalloc_s(tlsrpt_rec, &d.recs);
  n = genalloc_len(tlsrpt_rec, &d.recs);
  for (i = 0; i < n; i = j)
  {
    for (j = i + 1; j < n && !strcmp(rec[i].domain, rec[j].domain); j++) ;
    if (was_sent(&sent, rec[i].domain)) continue;
    if (!domain_report(r, day, sentpath.s, rec + i, j - i)) left++;
  }
  if (r->dry) goto end;
  if (left && strcmp(day, oldest) >= 0) goto end;
  if (left) strerr_warnw("giving up the reports of ", day, " not sent yet (control/tlsrptkeepdays)");
  if (unlink(path.s) < 0 && errno != ENOENT) strerr_warnwusys("remove ", path.s);
  if (unlink(sentpath.s) < 0 && errno != ENOENT) strerr_warnwusys("remove ", sentpath.s);
  left = 0;
 end:
  rptday_free(&d);
  stralloc_free(&path); stralloc_free(&sentpath); stralloc_free(&sent);
  return !left;
}

static int cmpstr(void const *a, void const *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every finished day in HOME/tlsrpt, oldest first. 1 all done. */
static int do_days(run *r, time_t now)
{
  char today[11], oldest[11];
  stralloc names = STRALLOC_ZERO;
  genalloc list = GENALLOC_ZERO;   /* char *, into names */
  size_t i, k;
  int alldone = 1;
  DIR *dp;
  day_of(today, now);
  day_of(oldest, now - (time_t)r->c.keepdays * 86400);
  dp = opendir(r->dir.s);
  if (!dp)
  {
    if (errno == ENOENT) return 1;   /* recording is off */
    strerr_warnwusys("open ", r->dir.s);
    return 0;
  }
  for (;;)
  {
    struct dirent *de;
    errno = 0;
    de = readdir(dp);
    if (!de) break;
    if (is_day(de->d_name, "") && strcmp(de->d_name, today) < 0 && !stralloc_catb(&names, de->d_name, 11))
      strerr_diefu(111, "allocate");
    if (is_day(de->d_name, ".sent") && !r->dry) drop_orphan(r, de->d_name);
  }
  if (errno) { strerr_warnwusys("read the directory ", r->dir.s); alldone = 0; }
  closedir(dp);
  for (k = 0; k < names.len; k += 11)
  {
    char *p = names.s + k;
    if (!genalloc_append(char *, &list, &p)) strerr_diefu(111, "allocate");
  }
  /* qsort wants a real array even for none */
  if (genalloc_len(char *, &list)) qsort(genalloc_s(char *, &list), genalloc_len(char *, &list), sizeof(char *), &cmpstr);
  for (i = 0; i < genalloc_len(char *, &list); i++)
    if (!do_day(r, genalloc_s(char *, &list)[i], oldest)) alldone = 0;
  genalloc_free(char *, &list);
  stralloc_free(&names);
  return alldone;
}

int main(int argc, char const *const *argv)
{
  run r = { .c = { .me = STRALLOC_ZERO, .org = STRALLOC_ZERO, .contact = STRALLOC_ZERO, .from = STRALLOC_ZERO },
            .dry = 0, .dir = STRALLOC_ZERO };
  int sweep = 1, ok;
  time_t now = time(0);
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "nS", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 'n': r.dry = 1; break;
      case 'S': sweep = 0; break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  if (l.ind != argc) strerr_dieusage(100, USAGE);
  /* tern-inject dying mid-message is a failed send, not our end */
  if (sig_ignore(SIGPIPE) < 0) strerr_diefusys(111, "ignore SIGPIPE");
  if (qinject_path_self(argv[0]) < 0) strerr_diefusys(111, "set PATH");
  conf_load(&r.c);
  if (!tern_path(&r.dir, "tlsrpt/")) strerr_diefu(111, "allocate");
  r.dir.len--;   /* tern_path's NUL: names are appended */
  if (!stralloc_0(&r.dir)) strerr_diefu(111, "allocate");
  r.dir.len--;
  ok = do_days(&r, now);
  if (sweep && !r.dry)
  {
    unsigned int max;
    if (control_readuint(&max, "mtastsmaxbytes", MTASTS_POLICY_MAX) < 0) max = MTASTS_POLICY_MAX;
    if (max > (16u << 20)) max = 16u << 20;   /* as remote_sts.c */
    if (!rpt_sweep(max, (uint64_t)now)) ok = 0;
  }
  return ok ? 0 : 111;
}
