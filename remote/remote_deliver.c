/* remote_deliver.c: one message over the kept connection, or a new one
 * (remote_deliver.h), and its records on fd 1. */
#include <string.h>
#include <unistd.h>
#include <skalibs/alloc.h>
#include <skalibs/buffer.h>
#include <skalibs/ip46.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "dns.h"
#include "envelope.h"
#include "report.h"
#include "remote_deliver.h"
#include "remote_tlsrpt.h"

/* An address goes between < and > in a command line: no controls, no brackets. */
static int addr_ok(char const *a)
{
  size_t n = strlen(a), i;
  if (n > ENVELOPE_ADDR_MAX) return 0;
  for (i = 0; i < n; i++)
  {
    unsigned char u = (unsigned char)a[i];
    if (u < 32 || u == 127 || u == '<' || u == '>') return 0;
  }
  return 1;
}

static void set_all(rres *res, size_t n, char st, char const *text)
{
  size_t i;
  for (i = 0; i < n; i++)
  {
    if (res[i].status) continue;
    res[i].status = st;
    res[i].text.len = 0;
    if (!stralloc_cats(&res[i].text, text) || !stralloc_0(&res[i].text)) res[i].text.len = 0;
  }
}

static void hostdesc(stralloc *sa, target const *t)
{
  char ip[IP46_FMT + 1];
  size_t n = ip46_fmt(ip, &t->ip);
  sa->len = 0;
  ip[n] = 0;
  if (strcmp(t->name, ip) && (!stralloc_cats(sa, t->name) || !stralloc_cats(sa, " "))) sa->len = 0;
  if (!stralloc_cats(sa, "[") || !stralloc_catb(sa, ip, n)
   || !stralloc_cats(sa, "]") || !stralloc_0(sa)) sa->len = 0;
  if (!sa->len) stralloc_copys(sa, "?"), stralloc_0(sa);
}

/* The name for SNI and certificate checks: none for an address literal. */
static char const *tlsname(target const *t)
{
  ip46 ip;
  return ip46_scan(t->name, &ip) == strlen(t->name) ? 0 : t->name;
}

int rdel_domain_norm(stralloc *sa, char const *d)
{
  size_t i;
  if (!stralloc_copys(sa, d) || !stralloc_0(sa)) return 0;
  sa->len--;
  if (sa->len && sa->s[sa->len - 1] == '.') sa->s[--sa->len] = 0;
  for (i = 0; i < sa->len; i++) if (sa->s[i] >= 'A' && sa->s[i] <= 'Z') sa->s[i] += 32;
  return 1;
}

static void conn_end(rdel *d)
{
  if (d->c.fd < 0) return;
  smtp_close(&d->s);
  conn_close(&d->c);
  d->ident.len = 0;
}

/* The settings for domain: read once and kept while the domain stays the
 * same (a batch run carries one route, nearly always one domain). */
static int cfg_for(rdel *d, char const *domain)
{
  if (d->cfgdomain.len && !strcmp(d->cfgdomain.s, domain)) return 1;
  rcfg_free(&d->cfg);
  memset(&d->cfg, 0, sizeof d->cfg);
  d->cfgdomain.len = 0;
  if (!rcfg_load(&d->cfg, domain, &d->why)) return 0;
  sts_for(&d->sts, &d->cfg, domain);
  return stralloc_copys(&d->cfgdomain, domain) && stralloc_0(&d->cfgdomain);
}

/* The connection identity of a delivery under cfg (remote_deliver.h). */
static int ident_of(stralloc *sa, rcfg const *cfg, char const *domain)
{
  char fmt[UINT_FMT];
  sa->len = 0;
  if (cfg->routed)
  {
    if (!stralloc_cats(sa, "relay ") || !stralloc_cats(sa, cfg->relay.host) || !stralloc_catb(sa, ":", 1)
     || !stralloc_catb(sa, fmt, uint_fmt(fmt, cfg->relay.port))) return 0;
  }
  else if (!stralloc_cats(sa, "mx ") || !stralloc_cats(sa, domain)) return 0;
  return stralloc_catb(sa, " tls ", 5) && stralloc_catb(sa, fmt, uint_fmt(fmt, (unsigned int)cfg->tlspolicy))
      && stralloc_catb(sa, " auth ", 6) && stralloc_catb(sa, cfg->user.s ? cfg->user.s : "", cfg->user.len)
      && stralloc_0(sa);
}

static int find_targets(rdel *d, char const *domain)
{
  rcfg const *cfg = &d->cfg;
  dns dn;
  int r;
  genalloc_setlen(target, &d->targets, 0);
  if (cfg->routed && cfg->relay.literal) return mx_relay_targets(0, &cfg->relay, cfg->port, &d->targets, &d->why);
  if (!dns_init(&dn, 0))
  {
    d->why.len = 0;
    stralloc_cats(&d->why, "cannot set up DNS (bad TERN_DNS or resolv.conf)");
    stralloc_0(&d->why);
    return -1;
  }
  r = cfg->routed ? mx_relay_targets(&dn, &cfg->relay, cfg->port, &d->targets, &d->why)
                  : mx_targets(&dn, domain, cfg->port, &cfg->self, &d->targets, &d->why);
  dns_free(&dn);
  if (r > 0 && !sts_filter(&d->sts, &d->targets, domain, &d->why))
  {
    r = -1;
    /* no session, but the policy failed the delivery: the report says so */
    rtlsrpt_session(cfg, &d->sts, domain, "validation-failure", 0, 0, -1);
  }
  return r;
}

/* One address: connect, open the session (again without TLS when the
 * handshake failed and the policy allows it), send the message. An
 * smtp_outcome: SMTP_DONE when the message got its statuses. */
static int try_target(rdel *d, char const *domain, target const *t, smtpjob const *job, rres *res)
{
  int outcome = SMTP_NEXT, pass;
  hostdesc(&d->host, t);
  for (pass = 0; pass < 2; pass++)
  {
    if (!conn_open(&d->c, &t->ip, t->port, d->cfg.timeoutconnect, d->cfg.timeoutremote))
    {
      d->why.len = 0;
      if (!stralloc_cats(&d->why, d->host.s) || !stralloc_cats(&d->why, ": cannot connect: ")
       || !stralloc_cats(&d->why, d->c.err) || !stralloc_0(&d->why)) d->why.len = 0;
      return SMTP_NEXT;
    }
    d->connects++;
    memset(&d->s, 0, sizeof d->s);
    d->s.c = &d->c; d->s.job = job; d->s.host = d->host.s; d->s.res = res; d->s.why = &d->why;
    outcome = smtp_open(&d->s, tlsname(t), pass);
    if (!pass) rtlsrpt_session(&d->cfg, &d->sts, domain, d->s.tlsres, t->name, &t->ip, d->c.fd);
    d->tlsused = d->c.tls != 0;
    d->tlscheck = d->c.tls ? rtls_observed(d->c.tls) : 0;
    if (outcome == SMTP_READY && smtp_message(&d->s)) return SMTP_DONE;   /* connection kept */
    if (outcome == SMTP_READY) outcome = SMTP_NEXT;
    if (outcome == SMTP_DONE) { conn_end(d); return SMTP_DONE; }
    d->s.dropped = 1;
    conn_end(d);
    if (outcome != SMTP_PLAIN) break;
    strerr_warnw("TLS with ", d->host.s, " failed, retrying in plaintext: ", d->why.s);
  }
  return SMTP_NEXT;
}

static void deliver(rdel *d, char const *domain, smtpjob *job, rres *res)
{
  size_t i, n;
  int r;
  if (!cfg_for(d, domain))
  {
    set_all(res, job->nrcpt, REPORT_TEMP, d->why.len ? d->why.s : "cannot read the configuration");
    return;
  }
  strerr_warni("policy for ", domain, ": ", d->sts.note.len ? d->sts.note.s : "?");
  job->helo = d->cfg.helo.s;
  job->tlspolicy = d->cfg.tlspolicy;
  job->anchors = &d->cfg.anchors;
  job->observe = d->sts.mode == MTASTS_TESTING;
  job->suites = &d->cfg.suites;
  job->user = d->cfg.user.len ? d->cfg.user.s : 0;
  job->pass = d->cfg.user.len ? d->cfg.pass.s : 0;
  {
    stralloc id = STRALLOC_ZERO;
    int same = ident_of(&id, &d->cfg, domain) && d->c.fd >= 0 && !strcmp(id.s, d->ident.s);
    if (!same) conn_end(d);
    else
    {
      d->s.job = job; d->s.res = res;
      if (smtp_message(&d->s))
      {
        if (d->s.dropped) conn_end(d);
        stralloc_free(&id);
        d->messages++;
        return;
      }
      conn_end(d);   /* gone while idle: a new one for this message */
    }
    stralloc_copy(&d->ident, &id);
    stralloc_free(&id);
  }
  r = find_targets(d, domain);
  if (r <= 0)
  {
    set_all(res, job->nrcpt, r ? REPORT_TEMP : REPORT_PERM, d->why.len ? d->why.s : "no route");
    return;
  }
  n = genalloc_len(target, &d->targets);
  for (i = 0; i < n; i++)
  {
    target const *t = genalloc_s(target const, &d->targets) + i;
    if (try_target(d, domain, t, job, res) == SMTP_DONE)
    {
      d->messages++;
      sts_after(&d->sts, domain, d->host.s, d->tlsused, d->tlscheck);
      if (d->c.fd >= 0 && d->s.dropped) conn_end(d);
      return;
    }
    strerr_warnw("delivery to ", t->name, " failed: ", d->why.len ? d->why.s : "?");
  }
  sts_explain(&d->sts, &d->why);
  set_all(res, job->nrcpt, REPORT_TEMP, d->why.len ? d->why.s : "no mail host could be reached");
}

static int output(rres const *res, size_t n)
{
  char buf[4096];
  buffer b = BUFFER_INIT(&buffer_write, 1, buf, sizeof buf);
  size_t i;
  for (i = 0; i < n; i++)
    if (!report_put(&b, res[i].status, res[i].text.len ? res[i].text.s : "")) return 0;
  return buffer_flush(&b);
}

int rdel_message(rdel *d, char const *domain, char const *sender, char const *const *rcpts, size_t n,
                 int fd, uint64_t msglen, char const *mparams, char const *const *rparams)
{
  smtpjob job = { .sender = sender, .msgfd = fd, .msglen = msglen, .mparams = mparams };
  char const **valid = alloc((n ? n : 1) * sizeof *valid);
  char const **vparams = alloc((n ? n : 1) * sizeof *vparams);
  rres *res = alloc((n ? n : 1) * sizeof *res), *vres = alloc((n ? n : 1) * sizeof *vres);
  size_t i, nv = 0;
  int ok;
  if (!res || !vres || !valid || !vparams) strerr_diefu(111, "allocate");
  memset(res, 0, n * sizeof *res);
  memset(vres, 0, n * sizeof *vres);
  for (i = 0; i < n; i++)
    if (addr_ok(rcpts[i])) { vparams[nv] = rparams ? rparams[i] : 0; valid[nv++] = rcpts[i]; }
    else set_all(res + i, 1, REPORT_PERM, "the recipient address holds characters SMTP cannot carry");
  if (!addr_ok(sender))
  {
    set_all(res, n, REPORT_PERM, "the sender address holds characters SMTP cannot carry");
    nv = 0;
  }
  job.rcpts = valid;
  job.rparams = vparams;
  job.nrcpt = nv;
  if (nv) deliver(d, domain, &job, vres);
  for (i = 0, nv = 0; i < n; i++) if (!res[i].status) res[i] = vres[nv++];
  ok = output(res, n);
  for (i = 0; i < n; i++) stralloc_free(&res[i].text);
  alloc_free(res);
  alloc_free(vres);
  alloc_free(valid);
  alloc_free(vparams);
  return ok;
}

void rdel_end(rdel *d)
{
  conn_end(d);
  stralloc_free(&d->c.out);
  stralloc_free(&d->cfgdomain);
  stralloc_free(&d->host);
  stralloc_free(&d->ident);
  stralloc_free(&d->why);
  genalloc_free(target, &d->targets);
  rcfg_free(&d->cfg);
  sts_free(&d->sts);
}
