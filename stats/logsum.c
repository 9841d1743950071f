/* logsum.c: reads one log line of an instance (tern-smtpd, tern-send,
 * tern-tcpserver, tern-tlsd, tern-rblsmtpd, and the per-recipient status=
 * lines of docs/logs.md) into the counts of a logsum. A line it does not
 * know is counted as unknown; a damaged one (NUL, too long) as damaged;
 * neither is fatal. See docs/metrics.md for what each line counts as. */
#include <stdlib.h>
#include <string.h>
#include <skalibs/types.h>
#include "logsum.h"

char const *const logsum_reason[LS_R_N] =
{ "relay_denied", "unknown_user", "dnsbl", "size", "syntax", "too_many_recipients",
  "early_talker", "pipelining", "mail_loop", "badmailfrom", "badrcptto", "temporary", "other" };
char const *const logsum_channel[LS_CH_N] = { "local", "remote", "unknown" };
char const *const logsum_status[LS_ST_N] = { "sent", "deferred", "bounced", "expired" };

int logsum_init(logsum *s, int names, size_t namecap)
{
  memset(s, 0, sizeof *s);
  s->names = names;
  if (!nametab_init(&s->jobs, LOGSUM_PENDING_MAX) || !nametab_init(&s->msgs, LOGSUM_PENDING_MAX)) return 0;
  if (names && (!nametab_init(&s->senders, namecap) || !nametab_init(&s->rcpts, namecap)
                || !nametab_init(&s->domains, namecap))) return 0;
  return 1;
}

void logsum_free(logsum *s)
{
  nametab_free(&s->jobs);
  nametab_free(&s->msgs);
  nametab_free(&s->senders);
  nametab_free(&s->rcpts);
  nametab_free(&s->domains);
}

unsigned int logsum_svc(logsum *s, char const *name)
{
  unsigned int i;
  size_t len = strlen(name);
  if (len >= LOGSUM_SVCNAME) len = LOGSUM_SVCNAME - 1;
  for (i = 0; i < s->nsvc; i++)
    if (!strncmp(s->svc[i].name, name, len) && !s->svc[i].name[len]) return i;
  if (s->nsvc == LOGSUM_SVC_MAX)
  {
    /* full: the last one becomes "other" and takes every newcomer */
    memcpy(s->svc[LOGSUM_SVC_MAX - 1].name, "other", 6);
    return LOGSUM_SVC_MAX - 1;
  }
  memcpy(s->svc[s->nsvc].name, name, len);
  s->svc[s->nsvc].name[len] = 0;
  return s->nsvc++;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
  int64_t era;
  unsigned int yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned int)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int digits(char const *s, size_t n, unsigned int *v)
{
  size_t i;
  *v = 0;
  for (i = 0; i < n; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0;
    *v = *v * 10 + (unsigned int)(s[i] - '0');
  }
  return 1;
}

/* "YYYY-MM-DD" then optionally (T| )"HH:MM" and ":SS"; returns the length. */
static size_t civil(char const *s, size_t len, int64_t *t, int need_secs)
{
  unsigned int y, mo, d, h = 0, mi = 0, se = 0;
  size_t n = 10;
  if (len < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo)
      || !digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31) return 0;
  if (len >= 16 && (s[10] == ' ' || s[10] == 'T') && s[13] == ':' && digits(s + 11, 2, &h)
      && digits(s + 14, 2, &mi))
  {
    n = 16;
    if (len >= 19 && s[16] == ':' && digits(s + 17, 2, &se)) n = 19;
    if (h > 23 || mi > 59 || se > 60) return 0;
  }
  if (need_secs && n != 19) return 0;
  *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  return n;
}

int logsum_parsetime(char const *s, int64_t *t)
{
  size_t len = strlen(s);
  return len && civil(s, len, t, 0) == len;
}

static unsigned int hexval(char c)
{
  if (c >= '0' && c <= '9') return (unsigned int)(c - '0');
  if (c >= 'a' && c <= 'f') return (unsigned int)(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return (unsigned int)(c - 'A' + 10);
  return 16;
}

size_t logsum_time(char const *s, size_t len, int64_t *t, unsigned int *ms)
{
  size_t n, i;
  *ms = 0;
  if (len >= 25 && s[0] == '@')
  {
    uint64_t sec = 0, nano = 0;
    for (i = 1; i < 25; i++)
    {
      unsigned int v = hexval(s[i]);
      if (v > 15) return 0;
      if (i <= 16) sec = sec << 4 | v; else nano = nano << 4 | v;
    }
    /* TAI64: 2^62 + TAI seconds; TAI is 37 s ahead of UTC since 2017 */
    if (sec < ((uint64_t)1 << 62) + 37) return 0;
    *t = (int64_t)(sec - ((uint64_t)1 << 62) - 37);
    *ms = (unsigned int)(nano / 1000000) % 1000;
    return 25;
  }
  n = civil(s, len, t, 1);
  if (!n) return 0;
  if (n < len && s[n] == '.')
  {
    unsigned int k = 0;
    for (i = n + 1; i < len && s[i] >= '0' && s[i] <= '9'; i++)
      if (k < 3) { *ms = *ms * 10 + (unsigned int)(s[i] - '0'); k++; }
    while (k < 3) { *ms *= 10; k++; }
    n = i;
  }
  return n;
}

unsigned int logsum_delay_bucket(uint64_t ms)
{
  unsigned int b = 0;
  while (b < LOGSUM_DELAY_NB - 1 && ms > logsum_delay_bound(b)) b++;
  return b;
}

/* 2^(b/2) ms, the odd ones rounded: 1, 1, 2, 3, 4, 6, 8, 11, 16, ... */
uint64_t logsum_delay_bound(unsigned int b)
{
  uint64_t p = (uint64_t)1 << (b / 2);
  return b & 1 ? p * 1414 / 1000 : p;
}

/* The value of "key" (given with its '=') in a line of key=value words: a
 * word starts at the beginning or after a blank and ends at a blank. */
static char const *field(char const *s, char const *key, size_t *vlen)
{
  size_t klen = strlen(key);
  char const *p = s;
  while ((p = strstr(p, key)))
  {
    if (p == s || p[-1] == ' ')
    {
      p += klen;
      *vlen = strcspn(p, " ");
      return p;
    }
    p += klen;
  }
  return 0;
}

static int starts(char const *s, char const *pre)
{
  return !strncmp(s, pre, strlen(pre));
}

static void name_add(logsum *s, nametab *t, char const *k, size_t len)
{
  nameent *e;
  if (!s->names) return;
  if (!len) { k = "<>"; len = 2; }
  e = nametab_get(t, k, len);
  if (e) e->n++;
}

static unsigned int hour_of(int64_t t)
{
  int64_t h = (t / 3600) % 24;
  return (unsigned int)(h < 0 ? h + 24 : h);
}

typedef struct lctx_s lctx;
struct lctx_s
{
  logsum *s;
  logsvc *v;
  int64_t t;       /* seconds */
  int64_t tms;     /* milliseconds, -1 if the line has no time */
  int count;       /* inside the time range */
};

static unsigned int rcpt_reason(char const *r)
{
  if (starts(r, "ok")) return LS_R_N;
  if (strstr(r, "relaying denied")) return LS_R_RELAY;
  if (strstr(r, "unknown user")) return LS_R_UNKNOWN_USER;
  if (strstr(r, "too many recipients")) return LS_R_TOO_MANY_RCPTS;
  if (strstr(r, "(badmailfrom)")) return LS_R_BADMAILFROM;
  if (strstr(r, "(badrcptto)")) return LS_R_BADRCPTTO;
  if (strstr(r, "syntax") || strstr(r, "no domain") || strstr(r, "too long") || strstr(r, "routing characters"))
    return LS_R_SYNTAX;
  if (strstr(r, "unreadable") || strstr(r, "out of memory")) return LS_R_TEMPORARY;
  return LS_R_OTHER;
}

/* The last occurrence of pat in [s, end). */
static char const *last(char const *s, char const *end, char const *pat)
{
  size_t n = strlen(pat);
  char const *p = end;
  while (p - s >= (ptrdiff_t)n)
  {
    p--;
    if (!memcmp(p, pat, n)) return p;
  }
  return 0;
}

/* " to=<ADDR> (WHY)" items between p and end; counts refusals, and for an
 * accepted message the recipients and their domains. */
static void smtpd_rcpts(lctx *c, char const *p, char const *end, int accepted)
{
  logsum *s = c->s;
  while ((p = strstr(p, " to=<")) && p < end)
  {
    char const *a = p + 5, *next = strstr(a, " to=<"), *close, *why;
    char r[64];
    size_t wl;
    if (!next || next > end) next = end;
    close = last(a, next, "> (");
    if (!close) { p = next; continue; }
    why = close + 3;
    wl = (size_t)(next - why);
    if (wl && why[wl - 1] == ')') wl--;
    if (wl >= sizeof r) wl = sizeof r - 1;
    memcpy(r, why, wl);
    r[wl] = 0;
    {
      unsigned int k = rcpt_reason(r);
      if (k < LS_R_N) s->refused[k]++;
      else if (accepted)
      {
        char const *at = memchr(a, '@', (size_t)(close - a));
        name_add(s, &s->rcpts, a, (size_t)(close - a));
        if (at) name_add(s, &s->domains, at + 1, (size_t)(close - at - 1));
      }
    }
    p = next;
  }
}

static void smtpd_txn(lctx *c, char const *p, char const *from)
{
  logsum *s = c->s;
  char const *end = p + strlen(p);
  char const *res = last(p, end, " result="), *id, *bytes, *fe;
  int accepted, authed;
  if (!res) { s->unknown++; return; }
  id = last(p, res, " id=");
  bytes = last(p, res, " bytes=");
  if (!id || !bytes || bytes < from) { s->unknown++; return; }
  s->parsed++;
  if (!c->count) return;
  res += 8;
  accepted = strncmp(id + 4, "- ", 2) && starts(res, "250");
  authed = !!last(p, from, " auth=") || starts(p, "auth=");
  smtpd_rcpts(c, from, bytes, accepted);
  if (accepted)
  {
    c->v->accepted[authed]++;
    if (c->tms >= 0) s->hour_in[hour_of(c->t)]++;
    fe = strchr(from + 7, '>');
    if (fe && fe < bytes) name_add(s, &s->senders, from + 7, (size_t)(fe - from - 7));
  }
  else if (strncmp(id + 4, "- ", 2) == 0 && (res[0] == '4' || res[0] == '5'))
  {
    if (strstr(res, "ipelining")) return;   /* the guard's own line counts it */
    if (starts(res, "552")) s->refused[LS_R_SIZE]++;
    else if (strstr(res, "loop")) s->refused[LS_R_LOOP]++;
    else if (res[0] == '4') s->refused[LS_R_TEMPORARY]++;
    else s->refused[LS_R_OTHER]++;
  }
}

/* After "tern-smtpd: info: ". */
static void smtpd_line(lctx *c, char const *p)
{
  logsum *s = c->s;
  char const *from = strstr(p, " from=<");
  size_t n;
  char const *r;
  if (!starts(p, "ip=")) { s->unknown++; return; }
  if (from) { smtpd_txn(c, p, from); return; }
  s->parsed++;
  if (!c->count) return;
  if (strstr(p, " early talker: ")) s->refused[LS_R_EARLY_TALKER]++;
  else if (strstr(p, " improper pipelining ")) s->refused[LS_R_PIPELINING]++;
  else if (field(p, "user=", &n) && (r = field(p, "result=", &n)))
  {
    if (r[0] == '2') c->v->auth_ok++; else c->v->auth_fail++;
  }
}

static void tcpserver_line(lctx *c, char const *p)
{
  logsvc *v = c->v;
  c->s->parsed++;
  if (starts(p, "ok "))
  {
    char const *lp = strchr(p + 3, ' '), *e, *colon;
    if (c->count) v->conns++;
    if (!lp) return;
    lp++;
    e = lp + strcspn(lp, " ");
    colon = last(lp, e, ":");
    if (colon && (size_t)(e - colon - 1) < sizeof v->port)
    {
      memcpy(v->port, colon + 1, (size_t)(e - colon - 1));
      v->port[e - colon - 1] = 0;
    }
  }
  else if (starts(p, "deny ")) { if (c->count) v->denied++; }
  else if (starts(p, "status: "))
  {
    uint64_t n;
    if (uint64_scan(p + 8, &n)) { v->active = n; v->active_seen = 1; }
  }
}

static void tlsd_line(lctx *c, char const *p)
{
  c->s->parsed++;
  if (!c->count) return;
  if (strstr(p, "TLS handshake with ") && strstr(p, " failed: ")) c->v->tls_fail++;
  else if (starts(p, "warning: unable to TLS handshake with ")) c->v->tls_fail++;
  else if (starts(p, "info: TLS handshake with ") && strstr(p, ": ok")) c->v->tls_ok++;
}

static void rbl_line(lctx *c, char const *p)
{
  c->s->parsed++;
  if (c->count && starts(p, "info: block ")) c->s->refused[LS_R_DNSBL]++;
}

static void outcome(lctx *c, int old, unsigned int ch, unsigned int st, int64_t arrival_ms, int64_t delay_ms)
{
  logsum *s = c->s;
  if (!c->count) return;
  (old ? s->o_deliv : s->deliv)[ch][st]++;
  if (st != LS_ST_SENT) return;
  if (c->tms >= 0) (old ? s->o_hour_out : s->hour_out)[hour_of(c->t)]++;
  if (delay_ms < 0 && arrival_ms >= 0 && c->tms >= arrival_ms) delay_ms = c->tms - arrival_ms;
  if (delay_ms < 0) return;
  (old ? s->o_delay : s->delay)[ch][logsum_delay_bucket((uint64_t)delay_ms)]++;
  (old ? s->o_delay_ms_sum : s->delay_ms_sum)[ch] += (uint64_t)delay_ms;
}

void logsum_finish(logsum *s)
{
  if (s->newformat) return;
  memcpy(s->deliv, s->o_deliv, sizeof s->deliv);
  memcpy(s->delay, s->o_delay, sizeof s->delay);
  memcpy(s->delay_ms_sum, s->o_delay_ms_sum, sizeof s->delay_ms_sum);
  memcpy(s->hour_out, s->o_hour_out, sizeof s->hour_out);
}

static void send_start(lctx *c, char const *num, size_t numlen, char const *p)
{
  logsum *s = c->s;
  size_t idlen;
  unsigned int ch;
  nameent *m, *j;
  if (!starts(p, "msg ")) return;
  p += 4;
  idlen = strcspn(p, " ");
  if (starts(p + idlen, " to local ")) ch = LS_CH_LOCAL;
  else if (starts(p + idlen, " to remote ")) ch = LS_CH_REMOTE;
  else return;
  m = nametab_find(&s->msgs, p, idlen);
  j = nametab_get(&s->jobs, num, numlen);
  if (!j) return;
  j->n = ch;
  j->t = m ? m->t : -1;
}

static void send_result(lctx *c, char const *num, size_t numlen, char const *p)
{
  logsum *s = c->s;
  unsigned int st;
  if (starts(p, "success: ")) st = LS_ST_SENT;
  else if (starts(p, "deferral: ")) st = LS_ST_DEFERRED;
  else if (starts(p, "failure: ")) st = strstr(p, "message expired") ? LS_ST_EXPIRED : LS_ST_BOUNCED;
  else { s->unknown++; return; }
  s->parsed++;
  /* the result lines of one delivery come together, one per recipient */
  if (numlen >= sizeof s->lastjob || strncmp(s->lastjob, num, numlen) || s->lastjob[numlen])
  {
    nameent *j = nametab_find(&s->jobs, num, numlen);
    s->lastjob_ch = j ? (unsigned int)j->n : LS_CH_UNKNOWN;
    s->lastjob_t = j ? j->t : -1;
    if (j) nametab_del(&s->jobs, num, numlen);
    if (numlen >= sizeof s->lastjob) numlen = sizeof s->lastjob - 1;
    memcpy(s->lastjob, num, numlen);
    s->lastjob[numlen] = 0;
  }
  outcome(c, 1, s->lastjob_ch, st, s->lastjob_t, -1);
}

/* After "tern-send: info: ". */
static void send_line(lctx *c, char const *p)
{
  logsum *s = c->s;
  if (starts(p, "new msg "))
  {
    nameent *m = nametab_get(&s->msgs, p + 8, strcspn(p + 8, " "));
    if (m && !m->t) m->t = c->tms;
  }
  else if (starts(p, "end msg ")) nametab_del(&s->msgs, p + 8, strcspn(p + 8, " "));
  else if (starts(p, "bounce msg ")) { if (c->count) s->dsn++; }
  else if (starts(p, "starting delivery ") || starts(p, "delivery "))
  {
    char const *num = p + (p[0] == 's' ? 18 : 9);
    size_t nl = strspn(num, "0123456789");
    if (!nl || num[nl] != ':' || num[nl + 1] != ' ') { s->unknown++; return; }
    char const *r = num + nl + 2;
    /* "delivery N: msg ID: success: ..." (the ID since issue 15) is a
     * result; "delivery N: msg ID to ..." a start by an earlier tern-send */
    if (p[0] != 's' && starts(r, "msg "))
    {
      size_t idl = strcspn(r + 4, " :");
      if (r[4 + idl] == ':' && r[5 + idl] == ' ') r += 6 + idl;
    }
    if (p[0] == 's' || starts(r, "msg ")) send_start(c, num, nl, r);
    else { send_result(c, num, nl, r); return; }
  }
  s->parsed++;
}

/* The per-recipient outcome lines (docs/logs.md): status=, relay=, delay=. */
static int status_line(lctx *c, char const *prog, size_t plen, char const *p)
{
  logsum *s = c->s;
  size_t n;
  /* the fields tern-send writes come after the address and before the
   * reply text: both are other people's text, neither is searched */
  char const *f = strstr(p, "> relay="), *v, *r;
  unsigned int st, ch = LS_CH_UNKNOWN;
  int64_t delay = -1;
  if (f) p = f + 1;
  v = field(p, "status=", &n);
  if (!v) return 0;
  for (st = 0; st < LS_ST_N; st++)
    if (n == strlen(logsum_status[st]) && !memcmp(v, logsum_status[st], n)) break;
  if (st == LS_ST_N) return 0;
  if ((r = field(p, "channel=", &n)))
    ch = n == 5 && !memcmp(r, "local", 5) ? LS_CH_LOCAL : LS_CH_REMOTE;
  else if (plen == 10 && !memcmp(prog, "tern-local", 10)) ch = LS_CH_LOCAL;
  else if (plen == 11 && !memcmp(prog, "tern-remote", 11)) ch = LS_CH_REMOTE;
  else if ((r = field(p, "relay=", &n)))
    ch = n >= 5 && !memcmp(r, "local", 5) ? LS_CH_LOCAL : LS_CH_REMOTE;
  if ((r = field(p, "delay=", &n)))
  {
    uint64_t sec = 0, frac = 0, scale = 1000;
    size_t k = uint64_scan(r, &sec);
    if (k && r[k] == '.')
      for (k++; r[k] >= '0' && r[k] <= '9' && scale > 1; k++) { scale /= 10; frac += (uint64_t)(r[k] - '0') * scale; }
    if (k) delay = (int64_t)(sec * 1000 + frac);
  }
  s->newformat++;
  s->parsed++;
  outcome(c, 0, ch, st, -1, delay);
  return 1;
}

void logsum_line(logstream *ls, char const *line, size_t len)
{
  logsum *s = ls->sum;
  lctx c;
  unsigned int ms;
  size_t n, plen;
  char const *p;
  s->lines++;
  if (len > LOGSUM_LINE_MAX || memchr(line, 0, len)) { s->damaged++; return; }
  c.s = s;
  c.v = &s->svc[ls->svc];
  n = logsum_time(line, len, &c.t, &ms);
  c.tms = n ? c.t * 1000 + ms : -1;
  c.count = 1;
  if (s->from || s->to)
  {
    if (!n) { s->undated++; c.count = 0; }
    else if ((s->from && c.t < s->from) || (s->to && c.t >= s->to)) { s->outside++; c.count = 0; }
  }
  if (c.count && n)
  {
    if (!s->first || c.t < s->first) s->first = c.t;
    if (c.t > s->last) s->last = c.t;
  }
  p = line + n;
  while (*p == ' ') p++;
  plen = strcspn(p, ": ");
  if (!plen || p[plen] != ':' || p[plen + 1] != ' ' || strncmp(p, "tern-", 5)) { s->unknown++; return; }
  if (plen == 9 && starts(p, "tern-send") && starts(p + 11, "info: ")
      && !(starts(p + 17, "msg ") && strstr(p, ": to=<") && strstr(p, "> relay=")))
    send_line(&c, p + 17);
  else if (plen == 10 && starts(p, "tern-smtpd") && starts(p + 12, "info: ")) smtpd_line(&c, p + 18);
  else if (plen == 14 && starts(p, "tern-tcpserver")) tcpserver_line(&c, p + 16);
  else if (plen == 9 && starts(p, "tern-tlsd")) tlsd_line(&c, p + 11);
  else if (plen == 13 && starts(p, "tern-rblsmtpd")) rbl_line(&c, p + 15);
  /* a line of another of our programs: known, counts for nothing */
  else if (!status_line(&c, p, plen, p + plen + 2)) s->parsed++;
}
