/* metrics_fmt.c: the Prometheus text exposition format (version 0.0.4) of
 * the counts a logsum holds, with the usual names and types. */
#include <string.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/types.h>
#include "metrics_fmt.h"
#include "control.h"
#include "queueid.h"

/* The delay histogram's buckets (ms); a fine bucket goes to the first
 * Prometheus bucket its upper bound fits in (docs/metrics.md). */
static uint64_t const le_ms[] = { 100, 500, 1000, 5000, 10000, 30000, 60000, 300000, 900000, 3600000, 14400000, 86400000 };
#define NLE (sizeof le_ms / sizeof le_ms[0])

static int cats(stralloc *sa, char const *s) { return stralloc_cats(sa, s); }

static int catu(stralloc *sa, uint64_t n)
{
  char f[UINT64_FMT];
  return stralloc_catb(sa, f, uint64_fmt(f, n));
}

/* A label value: backslash, quote and newline escaped. */
static int catlabel(stralloc *sa, char const *s)
{
  int ok = 1;
  for (; *s && ok; s++)
    ok = *s == '\\' ? cats(sa, "\\\\") : *s == '"' ? cats(sa, "\\\"") : *s == '\n' ? cats(sa, "\\n")
       : stralloc_catb(sa, s, 1);
  return ok;
}

static int family(stralloc *sa, char const *name, char const *type, char const *help)
{
  return cats(sa, "# HELP ") && cats(sa, name) && cats(sa, " ") && cats(sa, help) && cats(sa, "\n# TYPE ")
      && cats(sa, name) && cats(sa, " ") && cats(sa, type) && cats(sa, "\n");
}

/* name{k1="v1",k2="v2"} n; labels: NULL-ended key, value pairs */
static int sample(stralloc *sa, char const *name, char const *const *labels, uint64_t n)
{
  int ok = cats(sa, name);
  unsigned int i;
  if (labels && labels[0])
  {
    ok = ok && cats(sa, "{");
    for (i = 0; ok && labels[i]; i += 2)
      ok = (!i || cats(sa, ",")) && cats(sa, labels[i]) && cats(sa, "=\"") && catlabel(sa, labels[i + 1]) && cats(sa, "\"");
    ok = ok && cats(sa, "}");
  }
  return ok && cats(sa, " ") && catu(sa, n) && cats(sa, "\n");
}

static int svc_counter(stralloc *sa, logsum const *s, char const *name, char const *type, char const *help,
                       size_t off)
{
  unsigned int i;
  int ok = family(sa, name, type, help);
  for (i = 0; ok && i < s->nsvc; i++)
  {
    char const *l[3] = { "service", s->svc[i].name, 0 };
    ok = sample(sa, name, l, *(uint64_t const *)((char const *)(s->svc + i) + off));
  }
  return ok;
}

static int histogram(stralloc *sa, logsum const *s)
{
  static char const name[] = "tern_delivery_delay_seconds";
  unsigned int ch, b, k;
  int ok = family(sa, name, "histogram", "Time from queueing to delivery of sent recipients.");
  for (ch = 0; ok && ch < LS_CH_N; ch++)
  {
    uint64_t cum = 0, total = 0;
    char le[32];
    for (b = 0; b < LOGSUM_DELAY_NB; b++) total += s->delay[ch][b];
    for (k = 0, b = 0; ok && k <= NLE; k++)
    {
      char const *l[5] = { "channel", logsum_channel[ch], "le", le, 0 };
      while (b < LOGSUM_DELAY_NB && (k == NLE || logsum_delay_bound(b) <= le_ms[k])) cum += s->delay[ch][b++];
      if (k == NLE) memcpy(le, "+Inf", 5);
      else
      {
        size_t n = uint64_fmt(le, le_ms[k] / 1000);
        if (le_ms[k] % 1000) { le[n++] = '.'; le[n++] = (char)('0' + le_ms[k] / 100 % 10); }
        le[n] = 0;
      }
      ok = sample(sa, "tern_delivery_delay_seconds_bucket", l, cum);
    }
    {
      char const *l[3] = { "channel", logsum_channel[ch], 0 };
      char f[UINT64_FMT + 8];
      uint64_t ms = s->delay_ms_sum[ch];
      size_t n = uint64_fmt(f, ms / 1000);
      f[n++] = '.';
      n += uint0_fmt(f + n, (unsigned int)(ms % 1000), 3);
      f[n] = 0;
      ok = ok && cats(sa, "tern_delivery_delay_seconds_sum{channel=\"") && cats(sa, logsum_channel[ch])
         && cats(sa, "\"} ") && cats(sa, f) && cats(sa, "\n")
         && sample(sa, "tern_delivery_delay_seconds_count", l, total);
    }
  }
  return ok;
}

int metrics_fmt(stralloc *sa, logsum const *s, metrics_queue const *q)
{
  unsigned int i, k;
  int ok = family(sa, "tern_messages_accepted_total", "counter", "Messages accepted by tern-smtpd (queued).");
  for (i = 0; ok && i < s->nsvc; i++)
    for (k = 0; ok && k < 2; k++)
    {
      char const *l[5] = { "service", s->svc[i].name, "auth", k ? "yes" : "no", 0 };
      ok = sample(sa, "tern_messages_accepted_total", l, s->svc[i].accepted[k]);
    }
  ok = ok && family(sa, "tern_smtp_refused_total", "counter", "Refusals at SMTP (recipients, messages, clients) by reason.");
  for (k = 0; ok && k < LS_R_N; k++)
  {
    char const *l[3] = { "reason", logsum_reason[k], 0 };
    ok = sample(sa, "tern_smtp_refused_total", l, s->refused[k]);
  }
  ok = ok && family(sa, "tern_deliveries_total", "counter", "Delivery attempts per recipient by channel and status.");
  for (i = 0; ok && i < LS_CH_N; i++)
    for (k = 0; ok && k < LS_ST_N; k++)
    {
      char const *l[5] = { "channel", logsum_channel[i], "status", logsum_status[k], 0 };
      ok = sample(sa, "tern_deliveries_total", l, s->deliv[i][k]);
    }
  ok = ok && family(sa, "tern_dsn_total", "counter", "Failure notices (bounces) sent.") && sample(sa, "tern_dsn_total", 0, s->dsn)
     && histogram(sa, s)
     && svc_counter(sa, s, "tern_connections_total", "counter", "Connections accepted by tern-tcpserver.", offsetof(logsvc, conns))
     && svc_counter(sa, s, "tern_connections_denied_total", "counter", "Connections denied by tern-tcpserver.", offsetof(logsvc, denied))
     && svc_counter(sa, s, "tern_connections_active", "gauge", "Connections open, as tern-tcpserver last logged.", offsetof(logsvc, active))
     && svc_counter(sa, s, "tern_tls_handshakes_total", "counter", "TLS handshakes that succeeded.", offsetof(logsvc, tls_ok))
     && svc_counter(sa, s, "tern_tls_handshake_failures_total", "counter", "TLS handshakes that failed.", offsetof(logsvc, tls_fail))
     && family(sa, "tern_auth_total", "counter", "SMTP AUTH attempts by result.");
  for (i = 0; ok && i < s->nsvc; i++)
    for (k = 0; ok && k < 2; k++)
    {
      char const *l[5] = { "service", s->svc[i].name, "result", k ? "failure" : "success", 0 };
      ok = sample(sa, "tern_auth_total", l, k ? s->svc[i].auth_fail : s->svc[i].auth_ok);
    }
  if (ok && q->ok)
    ok = family(sa, "tern_queue_messages", "gauge", "Messages in the queue.") && sample(sa, "tern_queue_messages", 0, q->messages)
      && family(sa, "tern_queue_oldest_message_age_seconds", "gauge", "Age of the oldest message in the queue (0: empty).")
      && sample(sa, "tern_queue_oldest_message_age_seconds", 0, q->oldest_age);
  ok = ok && family(sa, "tern_log_lines_total", "counter", "Log lines read, by what was made of them.");
  {
    char const *l1[3] = { "kind", "understood", 0 }, *l2[3] = { "kind", "unknown", 0 }, *l3[3] = { "kind", "damaged", 0 };
    ok = ok && sample(sa, "tern_log_lines_total", l1, s->parsed) && sample(sa, "tern_log_lines_total", l2, s->unknown)
       && sample(sa, "tern_log_lines_total", l3, s->damaged);
  }
  return ok;
}

typedef struct qwalk_s qwalk;
struct qwalk_s { metrics_queue *q; int64_t now; int64_t oldest; stralloc p; };

static void one(char const *dir, char const *name, void *data)
{
  qwalk *w = data;
  struct stat st;
  w->q->messages++;
  w->p.len = 0;
  if (!stralloc_cats(&w->p, dir) || !stralloc_catb(&w->p, "/", 1) || !stralloc_cats(&w->p, name) || !stralloc_0(&w->p)) return;
  if (stat(w->p.s, &st) == 0 && (!w->oldest || st.st_mtime < w->oldest)) w->oldest = st.st_mtime;
}

void metrics_queue_read(metrics_queue *q, int64_t now)
{
  qwalk w = { q, now, 0, STRALLOC_ZERO };
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  q->ok = 0;
  q->messages = q->oldest_age = 0;
  if (!tern_path(&p, "queue/mess") || stat(p.s, &st) < 0 || access(p.s, R_OK | X_OK) < 0) { stralloc_free(&p); return; }
  stralloc_free(&p);
  q->ok = 1;
  queueid_each("mess", 0, &one, &w);
  if (w.oldest && now > w.oldest) q->oldest_age = (uint64_t)(now - w.oldest);
  stralloc_free(&w.p);
}
