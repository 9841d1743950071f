/* tern-remote.c: delivers one queued message to the recipients of one domain over SMTP.
 *
 * Interface (docs/INTERNALS.md): tern-remote DOMAIN SENDER RCPT...; fd 0 is
 * the committed queue file; one K/Z/D record per recipient, in argv order,
 * on fd 1. Settings: remote_cfg.h. The SMTP dialogue: remote_smtp.c.
 *
 * SECURITY: runs as the remote-delivery user, holding only the queue file
 * (read-only) and, for a relay with AUTH, its password. Everything from DNS
 * and the remote host is untrusted; the addresses from argv are checked
 * before they go into a command line. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/alloc.h>
#include <skalibs/ip46.h>
#include <skalibs/sig.h>
#include "dns.h"
#include "queuefile.h"
#include "report.h"
#include "envelope.h"
#include "remote_cfg.h"
#include "remote_smtp.h"

char const *PROG = "tern-remote";
#define USAGE "tern-remote domain sender rcpt..."

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

/* One address: connect, run the session (again without TLS when the
 * handshake failed and the policy allows it). An smtp_outcome. */
static int try_target(target const *t, smtpjob const *job, rcfg const *cfg, rres *res, stralloc *why)
{
  conn c = { .fd = -1, .out = STRALLOC_ZERO };
  stralloc host = STRALLOC_ZERO;
  int outcome = SMTP_NEXT, pass;
  hostdesc(&host, t);
  for (pass = 0; pass < 2; pass++)
  {
    if (!conn_open(&c, &t->ip, t->port, cfg->timeoutconnect, cfg->timeoutremote))
    {
      why->len = 0;
      if (!stralloc_cats(why, host.s) || !stralloc_cats(why, ": cannot connect: ")
       || !stralloc_cats(why, c.err) || !stralloc_0(why)) why->len = 0;
      outcome = SMTP_NEXT;
      break;
    }
    outcome = smtp_session(&c, job, host.s, tlsname(t), pass, res, why);
    conn_close(&c);
    if (outcome != SMTP_PLAIN) break;
    strerr_warnw("TLS with ", host.s, " failed, retrying in plaintext: ", why->s);
  }
  if (outcome == SMTP_PLAIN) outcome = SMTP_NEXT;
  stralloc_free(&c.out);
  stralloc_free(&host);
  return outcome;
}

static int find_targets(rcfg const *cfg, char const *domain, genalloc *targets, stralloc *why)
{
  dns d;
  int r;
  if (cfg->routed && cfg->relay.literal) return mx_relay_targets(0, &cfg->relay, cfg->port, targets, why);
  if (!dns_init(&d, 0))
  {
    why->len = 0;
    stralloc_cats(why, "cannot set up DNS (bad TERN_DNS or resolv.conf)");
    stralloc_0(why);
    return -1;
  }
  r = cfg->routed ? mx_relay_targets(&d, &cfg->relay, cfg->port, targets, why)
                  : mx_targets(&d, domain, cfg->port, &cfg->self, targets, why);
  dns_free(&d);
  return r;
}

/* Tries the targets in order until one session decides. */
static void deliver(rcfg const *cfg, smtpjob const *job, genalloc const *targets, rres *res, stralloc *why)
{
  size_t i, n = genalloc_len(target, targets);
  for (i = 0; i < n; i++)
  {
    target const *t = genalloc_s(target const, targets) + i;
    if (try_target(t, job, cfg, res, why) == SMTP_DONE) return;
    strerr_warnw("delivery to ", t->name, " failed: ", why->len ? why->s : "?");
  }
  set_all(res, job->nrcpt, REPORT_TEMP, why->len ? why->s : "no mail host could be reached");
}

static void deliver_all(rcfg *cfg, char const *domain, smtpjob *job, genalloc *targets,
                        rres *res, stralloc *why)
{
  int r;
  if (!rcfg_load(cfg, domain, why))
  {
    set_all(res, job->nrcpt, REPORT_TEMP, why->len ? why->s : "cannot read the configuration");
    return;
  }
  job->helo = cfg->helo.s;
  job->tlspolicy = cfg->tlspolicy;
  job->anchors = &cfg->anchors;
  job->suites = &cfg->suites;
  job->user = cfg->user.len ? cfg->user.s : 0;
  job->pass = cfg->user.len ? cfg->pass.s : 0;
  r = find_targets(cfg, domain, targets, why);
  if (r <= 0)
  {
    set_all(res, job->nrcpt, r ? REPORT_TEMP : REPORT_PERM, why->len ? why->s : "no route");
    return;
  }
  deliver(cfg, job, targets, res, why);
}

/* The domain as looked up: lowercase, without a final dot. */
static void domain_norm(stralloc *sa, char const *d)
{
  size_t i;
  if (!stralloc_copys(sa, d) || !stralloc_0(sa)) strerr_diefu(111, "allocate");
  sa->len--;
  if (sa->len && sa->s[sa->len - 1] == '.') sa->s[--sa->len] = 0;
  for (i = 0; i < sa->len; i++) if (sa->s[i] >= 'A' && sa->s[i] <= 'Z') sa->s[i] += 32;
}

static void output(rres const *res, size_t n)
{
  char buf[4096];
  buffer b = BUFFER_INIT(&buffer_write, 1, buf, sizeof buf);
  size_t i;
  for (i = 0; i < n; i++)
    if (!report_put(&b, res[i].status, res[i].text.len ? res[i].text.s : "")) strerr_diefu(111, "write to stdout");
  if (!buffer_flush(&b)) strerr_diefusys(111, "write to stdout");
}

int main(int argc, char const *const *argv)
{
  rcfg cfg = { .helo = STRALLOC_ZERO };
  stralloc env = STRALLOC_ZERO, why = STRALLOC_ZERO, domain = STRALLOC_ZERO;
  genalloc targets = GENALLOC_ZERO;
  smtpjob job = { .msgfd = 0 };
  char const **valid;
  rres *res, *vres;
  size_t i, n, nv = 0;
  if (argc < 4) strerr_dieusage(100, USAGE);
  /* a server that hangs up mid-message is a failed write to report, not a
   * signal that would leave tern-send without our records */
  if (sig_ignore(SIGPIPE) < 0) strerr_diefusys(111, "ignore SIGPIPE");
  n = (size_t)argc - 3;
  res = alloc(n * sizeof *res);
  vres = alloc(n * sizeof *vres);
  valid = alloc(n * sizeof *valid);
  if (!res || !vres || !valid) strerr_diefu(111, "allocate");
  memset(res, 0, n * sizeof *res);
  memset(vres, 0, n * sizeof *vres);
  if (queuefile_read_envelope(0, &env, &job.msglen) <= 0) strerr_diefusys(111, "read the queue file on fd 0");
  domain_norm(&domain, argv[1]);
  for (i = 0; i < n; i++)
    if (addr_ok(argv[3 + i])) valid[nv++] = argv[3 + i];
    else set_all(res + i, 1, REPORT_PERM, "the recipient address holds characters SMTP cannot carry");
  if (!addr_ok(argv[2]))
  {
    set_all(res, n, REPORT_PERM, "the sender address holds characters SMTP cannot carry");
    nv = 0;
  }
  job.sender = argv[2];
  job.rcpts = valid;
  job.nrcpt = nv;
  if (nv) deliver_all(&cfg, domain.s, &job, &targets, vres, &why);
  for (i = 0, nv = 0; i < n; i++) if (!res[i].status) res[i] = vres[nv++];
  output(res, n);
  for (i = 0; i < n; i++) stralloc_free(&res[i].text);
  alloc_free(res);
  alloc_free(vres);
  alloc_free(valid);
  stralloc_free(&env);
  stralloc_free(&why);
  stralloc_free(&domain);
  genalloc_free(target, &targets);
  rcfg_free(&cfg);
  return 0;
}
