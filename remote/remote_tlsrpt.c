/* remote_tlsrpt.c: appends the TLS outcome of a session to the day's
 * TLS reporting file (remote_tlsrpt.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "tlsrpt.h"
#include "remote_tlsrpt.h"

/* The policy as the record keeps it: MODE,MAX_AGE,MX... */
static int policy_text(stralloc *sa, mtasts_policy const *p)
{
  char fmt[UINT32_FMT];
  unsigned int i;
  if (!stralloc_cats(sa, mtasts_mode_name(p->mode)) || !stralloc_catb(sa, ",", 1)
   || !stralloc_catb(sa, fmt, uint32_fmt(fmt, p->max_age))) return 0;
  for (i = 0; i < p->nmx; i++)
    if (!stralloc_catb(sa, ",", 1) || !stralloc_cats(sa, p->mx[i])) return 0;
  return stralloc_0(sa);
}

/* HOME/tlsrpt/YYYY-MM-DD of the UTC day of now. */
static int day_path(stralloc *sa, time_t now)
{
  struct tm tm;
  char day[16];
  if (!gmtime_r(&now, &tm) || !strftime(day, sizeof day, "%Y-%m-%d", &tm)) return 0;
  if (!tern_path(sa, "tlsrpt/")) return 0;
  sa->len--;
  return stralloc_cats(sa, day) && stralloc_0(sa);
}

static void append(stralloc const *line, time_t now)
{
  stralloc path = STRALLOC_ZERO;
  int fd;
  if (!day_path(&path, now)) { strerr_warnwu("allocate for the TLS report record"); return; }
  fd = open(path.s, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
  {
    /* no directory: recording is off (remote_tlsrpt.h) */
    if (errno != ENOENT) strerr_warnwusys("open ", path.s);
  }
  else
  {
    /* one write: O_APPEND puts the whole line at the end at once */
    ssize_t w = write(fd, line->s, line->len);
    if (w != (ssize_t)line->len) strerr_warnwusys("append to ", path.s);
    fd_close(fd);
  }
  stralloc_free(&path);
}

void rtlsrpt_session(rcfg const *cfg, sts const *s, char const *domain, char const *result,
                     char const *mx, ip46 const *rip, int fd)
{
  stralloc line = STRALLOC_ZERO, pol = STRALLOC_ZERO;
  char ripf[IP46_FMT + 1], lipf[IP46_FMT + 1];
  tlsrpt_rec r = { .domain = domain, .mx = mx, .rip = 0, .lip = 0, .policy = 0 };
  time_t now = time(0);
  if (!result || cfg->routed || cfg->tlspolicy == TLS_NONE) return;
  r.when = (uint64_t)now;
  r.type = cfg->tlsset ? "tlsroutes" : s->found || s->fetchfail ? "sts" : "no-policy-found";
  r.result = s->fetchfail && !cfg->tlsset ? s->fetchfail : result;
  /* under testing an MX outside the policy is tried anyway: that is the
   * failure the domain most needs to hear of, whatever TLS did */
  if (s->found && !cfg->tlsset && s->mode == MTASTS_TESTING && mx && !mtasts_policy_match(&s->pol, mx))
    r.result = "validation-failure";
  if (s->found && !cfg->tlsset)
  {
    if (!policy_text(&pol, &s->pol)) goto end;
    r.policy = pol.s;
  }
  if (rip) { ripf[ip46_fmt(ripf, rip)] = 0; r.rip = ripf; }
  if (fd >= 0)
  {
    ip46 lip;
    uint16_t port;
    if (socket_local46(fd, &lip, &port) == 0) { lipf[ip46_fmt(lipf, &lip)] = 0; r.lip = lipf; }
  }
  if (tlsrpt_rec_format(&line, &r)) append(&line, now);
 end:
  stralloc_free(&line);
  stralloc_free(&pol);
}
