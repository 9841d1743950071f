/* remote_cfg.c: loading tern-remote's control files for one delivery. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "remote_cfg.h"

static int fail(stralloc *why, char const *a, char const *b)
{
  why->len = 0;
  if (!stralloc_cats(why, a) || !stralloc_cats(why, b ? b : "") || !stralloc_0(why)) why->len = 0;
  return 0;
}

/* A control file that cannot be read: the log names it in full; the
 * report, which can end up in a bounce, names it relative to the instance. */
static int fail_read(stralloc *why, char const *name)
{
  stralloc w = STRALLOC_ZERO;
  int e = errno;
  strerr_warnwusys("read ", control_where(&w, name));
  stralloc_free(&w);
  why->len = 0;
  if (!stralloc_cats(why, "cannot read control/") || !stralloc_cats(why, name) || !stralloc_cats(why, ": ")
   || !stralloc_cats(why, strerror(e)) || !stralloc_0(why)) why->len = 0;
  errno = e;
  return 0;
}

static int load_basics(rcfg *c, stralloc *why)
{
  char const *p = getenv("TERN_SMTP_PORT");
  int r = control_readline(&c->helo, "helohost");
  if (r < 0) return fail_read(why, "helohost");
  if (control_readline(&c->me, "me") < 0) return fail_read(why, "me");
  if (!r || !c->helo.len || !c->helo.s[0])
  {
    if (!c->me.len || !c->me.s[0]) return fail(why, "control/me is missing: no name for EHLO", 0);
    if (!stralloc_copy(&c->helo, &c->me)) return fail(why, "out of memory", 0);
  }
  if (control_readuint(&c->timeoutconnect, "timeoutconnect", 60) < 0
   || control_readuint(&c->timeoutremote, "timeoutremote", 1200) < 0)
    return fail(why, "bad control/timeoutconnect or control/timeoutremote", 0);
  if (!c->timeoutconnect) c->timeoutconnect = 1;
  if (!c->timeoutremote) c->timeoutremote = 1;
  c->port = 25;
  if (p && *p && (uint160_scan(p, &c->port) != strlen(p) || !c->port))
    return fail(why, "bad TERN_SMTP_PORT: ", p);
  c->self.me = c->me.len && c->me.s[0] ? c->me.s : 0;
  if (!selfset_load(&c->self)) return fail(why, "cannot read control/ipme or the local addresses: ", strerror(errno));
  return 1;
}

static int load_routes(rcfg *c, char const *domain, stralloc *why)
{
  stralloc lines = STRALLOC_ZERO;
  char const *v;
  int ok = 1;
  if (control_readlines(&lines, "smtproutes") < 0)
    return fail_read(why, "smtproutes");
  v = route_find(&lines, domain);
  if (v && !route_relay(v, &c->relay)) ok = fail(why, "bad control/smtproutes entry for ", domain);
  c->routed = ok && v && c->relay.host[0];
  lines.len = 0;
  c->tlspolicy = TLS_MAY;
  if (ok && control_readlines(&lines, "tlsroutes") < 0)
    ok = fail_read(why, "tlsroutes");
  if (ok && (v = route_find(&lines, domain)) && !route_tlspolicy(v, &c->tlspolicy))
    ok = fail(why, "bad control/tlsroutes entry for ", domain);
  /* the catch-all line ":policy" is a default, not the admin's word on
   * this domain: MTA-STS still applies over it (docs/mtasts.md) */
  c->tlsset = ok && v && v != route_get(&lines, "", 0);
  stralloc_free(&lines);
  return ok;
}

int rcfg_anchors(rcfg *c, stralloc *why)
{
  stralloc path = STRALLOC_ZERO;
  int r = control_readline(&path, "tlsca");
  char const *p = r > 0 && path.s[0] ? path.s : TLSCA_DEFAULT;
  if (genalloc_len(br_x509_trust_anchor, &c->anchors.ta)) { stralloc_free(&path); return 1; }
  if (r < 0) return fail_read(why, "tlsca");
  r = anchors_load(&c->anchors, p);
  if (r <= 0)
  {
    fail(why, "TLS verification required, but no trust anchors could be read from ", p);
    stralloc_free(&path);
    return 0;
  }
  stralloc_free(&path);
  return 1;
}

/* The credentials for the relay, from control/smtpauth, which must be
 * readable by its owner only (it holds passwords in clear). */
static int load_auth(rcfg *c, stralloc *why)
{
  stralloc path = STRALLOC_ZERO, lines = STRALLOC_ZERO;
  struct stat st;
  char const *v;
  int ok = 1;
  if (!tern_path(&path, "control/smtpauth")) return fail(why, "out of memory", 0);
  if (stat(path.s, &st) < 0)
  {
    stralloc_free(&path);
    return errno == ENOENT ? 1 : fail(why, "cannot stat control/smtpauth: ", strerror(errno));
  }
  stralloc_free(&path);
  if (st.st_mode & 077)
    return fail(why, "control/smtpauth is readable or writable by others: chmod 600 it", 0);
  if (control_readlines(&lines, "smtpauth") < 0)
    return fail_read(why, "smtpauth");
  v = route_get(&lines, c->relay.host, strlen(c->relay.host));
  if (!v && c->relay.literal)
  {
    /* the relay as smtproutes writes it, qmail's usual form: [192.0.2.1] */
    char key[sizeof c->relay.host + 2];
    size_t n = strlen(c->relay.host);
    key[0] = '[';
    memcpy(key + 1, c->relay.host, n);
    key[n + 1] = ']';
    v = route_get(&lines, key, n + 2);
  }
  if (v && !route_auth(v, &c->user, &c->pass))
    ok = fail(why, "bad control/smtpauth entry for ", c->relay.host);
  if (lines.s) memset(lines.s, 0, lines.a);
  stralloc_free(&lines);
  return ok;
}

static int load_suites(rcfg *c, stralloc *why)
{
  int r = tls_suites_load(&c->suites, "tlsciphersremote", why);
  if (r < 0) return fail_read(why, "tlsciphersremote");
  return r;
}

int rcfg_load(rcfg *c, char const *domain, stralloc *why)
{
  if (!load_basics(c, why) || !load_routes(c, domain, why)) return 0;
  if (c->tlspolicy != TLS_NONE && !load_suites(c, why)) return 0;
  if (c->tlspolicy == TLS_VERIFY && !rcfg_anchors(c, why)) return 0;
  if (c->routed && !load_auth(c, why)) return 0;
  return 1;
}

void rcfg_free(rcfg *c)
{
  if (c->pass.s) memset(c->pass.s, 0, c->pass.a);
  stralloc_free(&c->helo);
  stralloc_free(&c->me);
  stralloc_free(&c->user);
  stralloc_free(&c->pass);
  anchors_free(&c->anchors);
  genalloc_free(ip46, &c->self.ips);
}
