/* remote_sts.c: which MTA-STS policy applies to a delivery, its cache, and
 * what it does to the MX hosts (remote_sts.h). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/alloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "control.h"
#include "dns.h"
#include "remote_mx.h"
#include "remote_sts.h"

/* control/mtastsmaxbytes is taken up to this (16 MiB: a policy is a few lines). */
#define STS_MAXBYTES_CAP (16u << 20)
/* The cache record's bytes beyond the policy: its header. */
#define CACHE_HEADER_MAX 128

static void note(sts *s, char const *a, char const *b, char const *c, char const *d)
{
  s->note.len = 0;
  if (!stralloc_cats(&s->note, a) || !stralloc_cats(&s->note, b ? b : "") || !stralloc_cats(&s->note, c ? c : "")
   || !stralloc_cats(&s->note, d ? d : "") || !stralloc_0(&s->note))
    s->note.len = 0;
}

/* HOME/mtasts/DOMAIN, NUL-terminated. */
static int mtpath(stralloc *sa, char const *domain)
{
  if (!tern_path(sa, "mtasts/")) return 0;
  sa->len--;   /* tern_path's NUL */
  return stralloc_cats(sa, domain) && stralloc_0(sa);
}

typedef struct cached_s cached;
struct cached_s
{
  int valid;                        /* parsed and within its max_age */
  char id[MTASTS_ID_MAX + 1];
  mtasts_policy pol;
};

static void cache_read(cached *c, char const *domain, size_t maxbytes, uint64_t now)
{
  stralloc path = STRALLOC_ZERO;
  size_t max = maxbytes + CACHE_HEADER_MAX;
  char *buf = 0;
  ssize_t r;
  uint64_t fetched;
  c->valid = 0;
  if (!mtpath(&path, domain)) goto end;
  buf = alloc(max + 1);
  if (!buf) goto end;
  r = openreadnclose(path.s, buf, max + 1);
  if (r < 0)
  {
    if (errno != ENOENT) strerr_warnwu("read the MTA-STS cache ", path.s);
    goto end;
  }
  if ((size_t)r > max || !mtasts_cache_parse(buf, (size_t)r, c->id, &fetched, &c->pol)) goto end;
  c->valid = fetched <= now && now - fetched < c->pol.max_age;
 end:
  alloc_free(buf);
  stralloc_free(&path);
}

/* Replaces the cache entry: a temporary file of our own, synced, renamed. */
static void cache_write(char const *domain, char const *id, uint64_t now, stralloc const *body)
{
  stralloc path = STRALLOC_ZERO, rec = STRALLOC_ZERO;
  char suffix[8 + PID_FMT];
  size_t n = 0;
  memcpy(suffix, ".tmp.", 5); n = 5;
  n += pid_fmt(suffix + n, getpid());
  suffix[n] = 0;
  if (!mtpath(&path, domain)
   || !mtasts_cache_format(&rec, id, now, body->s, body->len))
    strerr_warnwu("allocate for the MTA-STS cache");
  else if (!openwritenclose_suffix_sync(path.s, rec.s, rec.len, suffix))
    strerr_warnwusys("write the MTA-STS cache ", path.s);
  stralloc_free(&path);
  stralloc_free(&rec);
}

/* The id of the domain's one valid STS TXT record. 1 found; 0 none or
 * invalid (RFC 8461 3.1: then no policy is announced); -1 DNS trouble. */
static int txt_id(char const *domain, char *id, stralloc *why, unsigned int timeout)
{
  stralloc name = STRALLOC_ZERO;
  dns d;
  dns_result r;
  tain deadline;
  size_t i, found = 0, bad = 0;
  int ret;
  if (!stralloc_cats(&name, "_mta-sts.") || !stralloc_cats(&name, domain) || !stralloc_0(&name)
   || !dns_init(&d, 0))
  {
    stralloc_free(&name);
    if (!stralloc_copys(why, "cannot set up DNS") || !stralloc_0(why)) why->len = 0;
    return -1;
  }
  dns_result_init(&r);
  dns_query(&d, &r, name.s, DNS_TXT);
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, timeout);
  dns_run(&d, &deadline);
  if (r.status == DNS_OK)
    for (i = 0; i < dns_rr_count(&r); i++)
    {
      char tmp[MTASTS_ID_MAX + 1];
      int t = mtasts_txt_parse(dns_rr_ptr(&r, i), dns_rr_at(&r, i)->len, tmp);
      if (t > 0 && !found++) memcpy(id, tmp, sizeof tmp);
      if (t < 0) bad++;
    }
  why->len = 0;
  if (r.status == DNS_TEMP) ret = -1, stralloc_cats(why, "TXT lookup failed: "), stralloc_cats(why, dns_strerror(&r));
  else if (found == 1 && !bad) ret = 1;
  else if (found + bad) ret = 0, stralloc_cats(why, "invalid or several _mta-sts TXT records");
  else ret = 0, stralloc_cats(why, "no _mta-sts TXT record");
  stralloc_0(why);
  dns_result_free(&r);
  dns_free(&d);
  stralloc_free(&name);
  return ret;
}

static void use(sts *s, mtasts_policy const *p, char const *id, char const *how, char const *detail)
{
  char const *m = mtasts_mode_name(p->mode);
  s->found = 1;
  s->pol = *p;
  s->mode = p->mode;
  note(s, "mta-sts ", m, " (id ", id);
  if (!s->note.len) return;
  s->note.len--;
  if (!stralloc_cats(&s->note, ", ") || !stralloc_cats(&s->note, how)
   || (detail && (!stralloc_cats(&s->note, "; ") || !stralloc_cats(&s->note, detail)))
   || !stralloc_cats(&s->note, ")") || !stralloc_0(&s->note)) s->note.len = 0;
}

/* TXT, cache, fetch: the decision of RFC 8461 5, in s. */
static void lookup(sts *s, rcfg *cfg, char const *domain)
{
  char id[MTASTS_ID_MAX + 1];
  cached c;
  stralloc why = STRALLOC_ZERO, body = STRALLOC_ZERO, err = STRALLOC_ZERO;
  unsigned int timeout, maxbytes;
  uint64_t now = (uint64_t)time(0);
  mtasts_policy fresh;
  char const *perr;
  char const *fail = "sts-policy-fetch-error";   /* RFC 8460 4.3.2.2, for the TLS report */
  int t;
  if (control_readuint(&timeout, "mtaststimeout", STS_TIMEOUT_DEFAULT) < 0) timeout = STS_TIMEOUT_DEFAULT;
  if (control_readuint(&maxbytes, "mtastsmaxbytes", MTASTS_POLICY_MAX) < 0) maxbytes = MTASTS_POLICY_MAX;
  if (!timeout) timeout = 1;
  if (maxbytes > STS_MAXBYTES_CAP) maxbytes = STS_MAXBYTES_CAP;   /* one allocation of this size */
  cache_read(&c, domain, maxbytes, now);
  t = txt_id(domain, id, &why, timeout);
  if (t <= 0)
  {
    if (c.valid) use(s, &c.pol, c.id, "cached", why.s);
    else note(s, "none (", why.s, ")", 0);
    goto end;
  }
  if (c.valid && !strcmp(c.id, id)) { use(s, &c.pol, id, "cached", 0); goto end; }
  if (!rcfg_anchors(cfg, &err))
    stralloc_copy(&why, &err);
  else if (sts_fetch(domain, &cfg->anchors, cfg->timeoutconnect, timeout, maxbytes, &body, &why))
  {
    if (mtasts_policy_parse(body.s, body.len, &fresh, &perr))
    {
      cache_write(domain, id, now, &body);
      use(s, &fresh, id, c.valid ? "fetched, the id changed" : "fetched", 0);
      goto end;
    }
    why.len = 0;
    stralloc_cats(&why, "bad policy: "), stralloc_cats(&why, perr), stralloc_0(&why);
    fail = "sts-policy-invalid";
  }
  else if (why.len && strstr(why.s, "certificate")) fail = "sts-webpki-invalid";   /* remote_tls.c's texts */
  err.len = 0;
  if (!stralloc_cats(&err, "policy fetch failed: ") || !stralloc_cat(&err, &why)) err.len = 0;
  if (c.valid) use(s, &c.pol, c.id, "cached", err.len ? err.s : "fetch failed");
  else
  {
    note(s, "none (", err.len ? err.s : "fetch failed", ")", 0);
    s->fetchfail = fail;
  }
 end:
  stralloc_free(&why);
  stralloc_free(&body);
  stralloc_free(&err);
}

void sts_for(sts *s, rcfg *cfg, char const *domain)
{
  static char const *const tls[] = { "none", "may", "encrypt", "verify" };
  s->mode = MTASTS_NONE;
  s->found = 0;
  s->fetchfail = 0;
  if (cfg->routed) note(s, "smtproutes relay ", cfg->relay.host, ", tls ", tls[cfg->tlspolicy]);
  else if (cfg->tlsset) note(s, "tlsroutes ", tls[cfg->tlspolicy], 0, 0);
  else if (!mtasts_name_ok(domain)) note(s, "none (not a name MTA-STS can apply to)", 0, 0, 0);
  else lookup(s, cfg, domain);
  if (s->mode != MTASTS_NONE)
  {
    stralloc why = STRALLOC_ZERO;
    if (s->mode == MTASTS_ENFORCE) cfg->tlspolicy = TLS_VERIFY;
    /* without anchors every check fails: under enforce deferred, never sent
     * unverified; under testing logged as not trusted */
    if (!rcfg_anchors(cfg, &why)) strerr_warnw("MTA-STS for ", domain, ": ", why.s);
    stralloc_free(&why);
  }
}

int sts_filter(sts const *s, genalloc *targets, char const *domain, stralloc *why)
{
  size_t i, keep = 0, n = genalloc_len(target, targets);
  target *t = genalloc_s(target, targets);
  if (s->mode == MTASTS_NONE) return 1;
  for (i = 0; i < n; i++)
  {
    if (mtasts_policy_match(&s->pol, t[i].name)) { t[keep++] = t[i]; continue; }
    if (s->mode == MTASTS_TESTING)
    {
      strerr_warni("MTA-STS testing for ", domain, ": MX ", t[i].name, " does not match the policy (enforce would skip it)");
      t[keep++] = t[i];
    }
  }
  genalloc_setlen(target, targets, keep);
  if (keep) return 1;
  why->len = 0;
  if (!stralloc_cats(why, "MTA-STS policy of ") || !stralloc_cats(why, domain)
   || !stralloc_cats(why, " (enforce): no MX host matches the policy") || !stralloc_0(why)) why->len = 0;
  return 0;
}

void sts_after(sts const *s, char const *domain, char const *host, int tls, char const *tlscheck)
{
  if (s->mode != MTASTS_TESTING) return;
  if (!tls)
    strerr_warni("MTA-STS testing for ", domain, ": delivered to ", host, " without TLS (enforce would have deferred)");
  else if (tlscheck)
    strerr_warni("MTA-STS testing for ", domain, ": delivered to ", host, " over TLS, but ", tlscheck,
                 " (enforce would have deferred)");
}

void sts_explain(sts const *s, stralloc *why)
{
  stralloc t = STRALLOC_ZERO;
  if (s->mode != MTASTS_ENFORCE || !why->len) return;
  if (stralloc_cats(&t, "MTA-STS enforce: ") && stralloc_cat(&t, why)) stralloc_copy(why, &t);
  stralloc_free(&t);
}

void sts_free(sts *s)
{
  stralloc_free(&s->note);
  s->mode = MTASTS_NONE;
}
