/* rpt_json.c: the aggregate report of RFC 8460 section 4 for one domain (rpt.h). */
#include <string.h>
#include <skalibs/types.h>
#include "rpt.h"

static int key(stralloc *sa, char const *k)
{
  return tlsrpt_json_str(sa, k) && stralloc_catb(sa, ":", 1);
}

/* "key":"value" */
static int kv(stralloc *sa, char const *k, char const *v)
{
  return key(sa, k) && tlsrpt_json_str(sa, v);
}

static int kn(stralloc *sa, char const *k, unsigned long n)
{
  char fmt[ULONG_FMT];
  return key(sa, k) && stralloc_catb(sa, fmt, ulong_fmt(fmt, n));
}

/* "pre" plus the policy field's item i (MODE,MAX_AGE,MX...), as a JSON string. */
static int item(stralloc *sa, char const *pre, char const *s, size_t len)
{
  stralloc t = STRALLOC_ZERO;
  int ok = stralloc_cats(&t, pre) && stralloc_catb(&t, s, len) && stralloc_0(&t) && tlsrpt_json_str(sa, t.s);
  stralloc_free(&t);
  return ok;
}

/* The policy object: for sts, the policy as the record kept it, turned
 * back into its lines (RFC 8460 4.4 policy-string) and its mx patterns. */
static int policy(stralloc *sa, char const *domain, tlsrpt_rec const *r)
{
  char const *p = r->policy, *f[2 + 32];
  size_t len[2 + 32], n = 0, i;
  if (!stralloc_cats(sa, "{") || !kv(sa, "policy-type", r->type)) return 0;
  if (!strcmp(r->type, "sts") && strcmp(p, "-"))
  {
    while (n < 2 + 32)
    {
      char const *c = strchr(p, ',');
      f[n] = p;
      len[n++] = c ? (size_t)(c - p) : strlen(p);
      if (!c) break;
      p = c + 1;
    }
    if (n >= 2)
    {
      if (!stralloc_cats(sa, ",") || !key(sa, "policy-string") || !stralloc_cats(sa, "[")
       || !tlsrpt_json_str(sa, "version: STSv1") || !stralloc_cats(sa, ",")
       || !item(sa, "mode: ", f[0], len[0])) return 0;
      for (i = 2; i < n; i++)
        if (!stralloc_cats(sa, ",") || !item(sa, "mx: ", f[i], len[i])) return 0;
      if (!stralloc_cats(sa, ",") || !item(sa, "max_age: ", f[1], len[1]) || !stralloc_cats(sa, "]")) return 0;
    }
  }
  if (!stralloc_cats(sa, ",") || !kv(sa, "policy-domain", domain)) return 0;
  if (n > 2)
  {
    if (!stralloc_cats(sa, ",") || !key(sa, "mx-host") || !stralloc_cats(sa, "[")) return 0;
    for (i = 2; i < n; i++)
      if ((i > 2 && !stralloc_cats(sa, ",")) || !item(sa, "", f[i], len[i])) return 0;
    if (!stralloc_cats(sa, "]")) return 0;
  }
  return stralloc_cats(sa, "}");
}

static int same_kind(tlsrpt_rec const *a, tlsrpt_rec const *b)
{
  return !strcmp(a->result, b->result) && !strcmp(a->mx, b->mx) && !strcmp(a->rip, b->rip) && !strcmp(a->lip, b->lip);
}

/* One failure-details entry for the records r[0..n) of one kind. */
static int detail(stralloc *sa, tlsrpt_rec const *r, unsigned long n)
{
  if (!stralloc_cats(sa, "{") || !kv(sa, "result-type", r->result)) return 0;
  if (strcmp(r->lip, "-") && (!stralloc_cats(sa, ",") || !kv(sa, "sending-mta-ip", r->lip))) return 0;
  if (strcmp(r->mx, "-") && (!stralloc_cats(sa, ",") || !kv(sa, "receiving-mx-hostname", r->mx))) return 0;
  if (strcmp(r->rip, "-") && (!stralloc_cats(sa, ",") || !kv(sa, "receiving-ip", r->rip))) return 0;
  return stralloc_cats(sa, ",") && kn(sa, "failed-session-count", n) && stralloc_cats(sa, "}");
}

/* The policies[] entry for the records r[0..n) of one policy. */
static int one_policy(stralloc *sa, char const *domain, tlsrpt_rec const *r, size_t n,
                      unsigned long *ok, unsigned long *failed)
{
  size_t i, j;
  unsigned long good = 0, bad = 0;
  int first = 1;
  for (i = 0; i < n; i++) if (!strcmp(r[i].result, "success")) good++; else bad++;
  *ok += good;
  *failed += bad;
  if (!stralloc_cats(sa, "{") || !key(sa, "policy") || !policy(sa, domain, r)
   || !stralloc_cats(sa, ",") || !key(sa, "summary") || !stralloc_cats(sa, "{")
   || !kn(sa, "total-successful-session-count", good) || !stralloc_cats(sa, ",")
   || !kn(sa, "total-failure-session-count", bad) || !stralloc_cats(sa, "}")) return 0;
  if (bad)
  {
    if (!stralloc_cats(sa, ",") || !key(sa, "failure-details") || !stralloc_cats(sa, "[")) return 0;
    for (i = 0; i < n; i = j)
    {
      for (j = i + 1; j < n && same_kind(r + i, r + j); j++) ;
      if (!strcmp(r[i].result, "success")) continue;
      if ((!first && !stralloc_cats(sa, ",\n")) || !detail(sa, r + i, j - i)) return 0;
      first = 0;
    }
    if (!stralloc_cats(sa, "]")) return 0;
  }
  return stralloc_cats(sa, "}");
}

int rpt_json(stralloc *sa, rptconf const *c, char const *day, char const *id,
             tlsrpt_rec const *r, size_t n, unsigned long *ok, unsigned long *failed)
{
  char start[32], end[32];
  size_t i, j;
  *ok = *failed = 0;
  if (strlen(day) != 10) return 0;
  memcpy(start, day, 10); memcpy(start + 10, "T00:00:00Z", 11);
  memcpy(end, day, 10); memcpy(end + 10, "T23:59:59Z", 11);
  if (!stralloc_cats(sa, "{") || !kv(sa, "organization-name", c->org.s) || !stralloc_cats(sa, ",\n")
   || !key(sa, "date-range") || !stralloc_cats(sa, "{") || !kv(sa, "start-datetime", start)
   || !stralloc_cats(sa, ",") || !kv(sa, "end-datetime", end) || !stralloc_cats(sa, "},\n")
   || !kv(sa, "contact-info", c->contact.s) || !stralloc_cats(sa, ",\n")
   || !kv(sa, "report-id", id) || !stralloc_cats(sa, ",\n")
   || !key(sa, "policies") || !stralloc_cats(sa, "[\n")) return 0;
  for (i = 0; i < n; i = j)
  {
    for (j = i + 1; j < n && !strcmp(r[i].type, r[j].type) && !strcmp(r[i].policy, r[j].policy); j++) ;
    if ((i && !stralloc_cats(sa, ",\n")) || !one_policy(sa, r[i].domain, r + i, j - i, ok, failed)) return 0;
  }
  return stralloc_cats(sa, "\n]}\n");
}
