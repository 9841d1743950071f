/* logsum_print.c: prints a logsum the way qmailanalog and pflogsumm do:
 * totals, then the details an admin looks at next. */
#include <string.h>
#include <skalibs/types.h>
#include "logsum_print.h"

#define LINE_MAX_TOP 1000

static void put(buffer *b, char const *s) { buffer_puts(b, s); }

static void putu(buffer *b, uint64_t n)
{
  char f[UINT64_FMT];
  buffer_put(b, f, uint64_fmt(f, n));
}

static void putkv(buffer *b, char const *k, uint64_t n)
{
  put(b, k);
  put(b, ": ");
  putu(b, n);
  put(b, "\n");
}

/* YYYY-MM-DD HH:MM:SS of seconds since the epoch (UTC arithmetic). */
static void puttime(buffer *b, int64_t t)
{
  int64_t z = t / 86400, era;
  unsigned int doe, yoe, doy, mp, d, m, s = (unsigned int)(t % 86400);
  int64_t y;
  char f[32];
  if (t % 86400 < 0) { z--; s = (unsigned int)(t % 86400 + 86400); }
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned int)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = (int64_t)yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  f[0] = 0;
  {
    unsigned int v[6] = { (unsigned int)y, m, d, s / 3600, s / 60 % 60, s % 60 };
    char const *sep[6] = { "", "-", "-", " ", ":", ":" };
    unsigned int i;
    for (i = 0; i < 6; i++)
    {
      put(b, sep[i]);
      buffer_put(b, f, uint0_fmt(f, v[i], i ? 2 : 4));
    }
  }
}

size_t logsum_fmtdelay(char *s, uint64_t ms)
{
  size_t n;
  if (ms < 1000) { n = uint64_fmt(s, ms); memcpy(s + n, " ms", 3); return n + 3; }
  if (ms < 60000)
  {
    n = uint64_fmt(s, ms / 1000);
    s[n++] = '.';
    s[n++] = (char)('0' + ms / 100 % 10);
    memcpy(s + n, " s", 2);
    return n + 2;
  }
  if (ms < 3600000) { n = uint64_fmt(s, ms / 60000); memcpy(s + n, " min", 4); return n + 4; }
  n = uint64_fmt(s, ms / 3600000);
  memcpy(s + n, " h", 2);
  return n + 2;
}

uint64_t logsum_percentile(uint64_t const *h, unsigned int permille)
{
  uint64_t total = 0, want, acc = 0;
  unsigned int b;
  for (b = 0; b < LOGSUM_DELAY_NB; b++) total += h[b];
  if (!total) return 0;
  want = (total * permille + 999) / 1000;
  if (!want) want = 1;
  for (b = 0; b < LOGSUM_DELAY_NB; b++)
  {
    acc += h[b];
    if (acc >= want) return logsum_delay_bound(b);
  }
  return logsum_delay_bound(LOGSUM_DELAY_NB - 1);
}

static void putdelay(buffer *b, uint64_t ms)
{
  char f[UINT64_FMT + 8];
  buffer_put(b, f, logsum_fmtdelay(f, ms));
}

static void print_delays(buffer *b, logsum const *s)
{
  unsigned int ch, k;
  uint64_t all[LOGSUM_DELAY_NB];
  static unsigned int const pm[4] = { 500, 900, 990, 1000 };
  static char const *const pn[4] = { "p50", "p90", "p99", "max" };
  memset(all, 0, sizeof all);
  put(b, "\ndelivery delay (sent; at most):\n");
  for (ch = 0; ch <= LS_CH_N; ch++)
  {
    uint64_t const *h = ch < LS_CH_N ? s->delay[ch] : all;
    uint64_t n = 0;
    for (k = 0; k < LOGSUM_DELAY_NB; k++)
    {
      n += h[k];
      if (ch < LS_CH_N) all[k] += h[k];
    }
    if (!n) continue;
    put(b, "  ");
    put(b, ch < LS_CH_N ? logsum_channel[ch] : "all");
    put(b, ": ");
    putu(b, n);
    for (k = 0; k < 4; k++)
    {
      put(b, k ? ", " : " deliveries, ");
      put(b, pn[k]);
      put(b, " ");
      putdelay(b, logsum_percentile(h, pm[k]));
    }
    put(b, "\n");
  }
}

static void print_top(buffer *b, char const *title, nametab const *t, unsigned int top)
{
  nameent const *v[LINE_MAX_TOP];
  size_t n = nametab_top(t, v, top > LINE_MAX_TOP ? LINE_MAX_TOP : top), i;
  put(b, "\n");
  put(b, title);
  put(b, ":\n");
  for (i = 0; i < n; i++)
  {
    put(b, "  ");
    putu(b, v[i]->n);
    put(b, " ");
    put(b, v[i]->key);
    put(b, "\n");
  }
  if (t->dropped)
  {
    put(b, "  (");
    putu(b, t->dropped);
    put(b, " more not counted: the list was full; raise -m)\n");
  }
}

static void print_hours(buffer *b, logsum const *s)
{
  uint64_t max = 0;
  unsigned int h, i;
  for (h = 0; h < 24; h++) if (s->hour_in[h] > max) max = s->hour_in[h];
  put(b, "\nby hour: received, delivered (sent recipients), and a bar of the received\n");
  for (h = 0; h < 24; h++)
  {
    char f[4];
    unsigned int n = max ? (unsigned int)((s->hour_in[h] * 50 + max - 1) / max) : 0;
    put(b, "  ");
    buffer_put(b, f, uint0_fmt(f, h, 2));
    put(b, "h ");
    putu(b, s->hour_in[h]);
    put(b, " ");
    putu(b, s->hour_out[h]);
    put(b, "\t|");
    for (i = 0; i < n; i++) put(b, "#");
    put(b, "\n");
  }
}

/* Services in name order (the log directories come in readdir's order). */
static void svc_order(logsum const *s, unsigned int *o)
{
  unsigned int i, j;
  for (i = 0; i < s->nsvc; i++)
  {
    for (j = i; j > 0 && strcmp(s->svc[o[j - 1]].name, s->svc[i].name) > 0; j--) o[j] = o[j - 1];
    o[j] = i;
  }
}

static void print_services(buffer *b, logsum const *s, unsigned int const *o)
{
  unsigned int i;
  put(b, "\nby service: connections, denied, TLS ok/failed, AUTH ok/failed\n");
  for (i = 0; i < s->nsvc; i++)
  {
    logsvc const *v = s->svc + o[i];
    uint64_t n[7] = { v->conns, v->denied, v->tls_ok, v->tls_fail, v->auth_ok, v->auth_fail };
    char const *sep[6] = { ": ", ", ", ", ", "/", ", ", "/" };
    unsigned int k;
    if (!(n[0] | n[1] | n[2] | n[3] | n[4] | n[5])) continue;
    put(b, "  ");
    put(b, v->name);
    for (k = 0; k < 6; k++) { put(b, sep[k]); putu(b, n[k]); }
    put(b, "\n");
  }
}

int logsum_print(buffer *b, logsum const *s, unsigned int top)
{
  unsigned int o[LOGSUM_SVC_MAX], i, k;
  uint64_t total = 0;
  svc_order(s, o);
  put(b, "tern log summary\n");
  if (s->first)
  {
    put(b, "first line: "); puttime(b, s->first);
    put(b, "\nlast line: "); puttime(b, s->last);
    put(b, "\n");
  }
  putkv(b, "lines", s->lines);
  putkv(b, "lines understood", s->parsed);
  putkv(b, "lines unknown", s->unknown);
  putkv(b, "lines damaged", s->damaged);
  if (s->from || s->to) { putkv(b, "lines outside the period", s->outside); putkv(b, "lines without a time", s->undated); }
  for (i = 0; i < s->nsvc; i++) total += s->svc[i].accepted[0] + s->svc[i].accepted[1];
  put(b, "\n");
  putkv(b, "messages received", total);
  for (i = 0; i < s->nsvc; i++)
  {
    logsvc const *v = s->svc + o[i];
    if (!v->accepted[0] && !v->accepted[1]) continue;
    put(b, "  received on ");
    put(b, v->name);
    if (v->port[0]) { put(b, " (port "); put(b, v->port); put(b, ")"); }
    put(b, ": ");
    putu(b, v->accepted[0] + v->accepted[1]);
    put(b, ", authenticated ");
    putu(b, v->accepted[1]);
    put(b, "\n");
  }
  put(b, "\nrecipients (local/remote/unknown channel):\n");
  for (k = 0; k < LS_ST_N; k++)
  {
    put(b, "  ");
    put(b, logsum_status[k]);
    put(b, ": ");
    putu(b, s->deliv[0][k] + s->deliv[1][k] + s->deliv[2][k]);
    put(b, " (");
    for (i = 0; i < LS_CH_N; i++) { if (i) put(b, "/"); putu(b, s->deliv[i][k]); }
    put(b, ")\n");
  }
  putkv(b, "  failure notices sent", s->dsn);
  total = 0;
  for (k = 0; k < LS_R_N; k++) total += s->refused[k];
  put(b, "\n");
  putkv(b, "refused at SMTP", total);
  for (k = 0; k < LS_R_N; k++)
    if (s->refused[k]) { put(b, "  refused "); putkv(b, logsum_reason[k], s->refused[k]); }
  print_services(b, s, o);
  print_delays(b, s);
  if (s->names)
  {
    print_top(b, "top senders (accepted messages)", &s->senders, top);
    print_top(b, "top recipients (accepted)", &s->rcpts, top);
    print_top(b, "top recipient domains (accepted)", &s->domains, top);
  }
  print_hours(b, s);
  return buffer_flush(b);
}
