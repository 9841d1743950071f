/* smtp_relay.c: rcpthosts, morercpthosts.cdb and the relay decision. The
 * decision is made on the canonical domain (lib/addr.h), which is the
 * domain the message is queued for: what we check is what we deliver. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "users.h"
#include "smtp_relay.h"

/* Canonicalises each rcpthosts line; ".domain" keeps its leading dot. */
static int load_hosts(relay *r, stralloc *raw, int n)
{
  size_t i = 0;
  int k, lit;
  for (k = 0; k < n; k++)
  {
    char const *line = raw->s + i;
    size_t len = strlen(line), dot = line[0] == '.';
    size_t mark = r->hosts.len;
    i += len + 1;
    if (dot && !stralloc_catb(&r->hosts, ".", 1)) return 0;
    if (addr_domain(&r->hosts, line + dot, len - dot, &lit) || (dot && lit))
    {
      r->hosts.len = mark;
      strerr_warnw("ignoring invalid line in control/rcpthosts: ", line);
      continue;
    }
    if (!stralloc_0(&r->hosts)) return 0;
  }
  return 1;
}

int relay_load(relay *r)
{
  stralloc raw = STRALLOC_ZERO, path = STRALLOC_ZERO;
  int n = control_readlines(&raw, "rcpthosts"), ok;
  if (n < 0) { stralloc_free(&raw); return 0; }
  if (n == 0)
  {
    /* missing or empty: same thing, nothing is ours */
    r->have_rcpthosts = 0;
  }
  else r->have_rcpthosts = 1;
  r->hosts.len = 0;
  if (users_locals_load(&r->locals) < 0) { stralloc_free(&raw); return 0; }
  ok = load_hosts(r, &raw, n);
  stralloc_free(&raw);
  if (!ok) return 0;
  if (!tern_path(&path, "control/morercpthosts.cdb")) return 0;
  r->have_mrh = cdb_init(&r->mrh, path.s);
  if (!r->have_mrh && errno != ENOENT) { stralloc_free(&path); return 0; }
  stralloc_free(&path);
  return 1;
}

void relay_free(relay *r)
{
  stralloc_free(&r->hosts);
  stralloc_free(&r->locals);
  if (r->have_mrh) cdb_free(&r->mrh);
  r->have_mrh = 0;
}

static int in_hosts(relay const *r, char const *key)
{
  size_t i = 0;
  while (i < r->hosts.len)
  {
    char const *h = r->hosts.s + i;
    size_t len = strlen(h);
    if (!strcmp(h, key)) return 1;
    i += len + 1;
  }
  return 0;
}

static int in_mrh(relay const *r, char const *key)
{
  cdb_data d;
  if (!r->have_mrh) return 0;
  return cdb_find(&r->mrh, &d, key, strlen(key));
}

/* The domain itself, then every ".suffix" of it (not for literals). */
int relay_ours(relay const *r, char const *domain)
{
  char const *p = domain;
  int found;
  if (!*domain) return 0;
  found = in_hosts(r, domain) ? 1 : in_mrh(r, domain);
  if (found || domain[0] == '[') return found;
  for (p = strchr(domain, '.'); p; p = strchr(p + 1, '.'))
  {
    found = in_hosts(r, p) ? 1 : in_mrh(r, p);
    if (found) return found;
  }
  return 0;
}

static int refuse(rcpt_verdict *v, char const *reply, char const *reason)
{
  v->ok = 0;
  v->reply = reply;
  v->reason = reason;
  return 0;
}

/* <postmaster> without a domain (RFC 5321 4.5.1) goes to postmaster@me. */
static int postmaster(rcpt_ctx const *c, addr *a)
{
  a->s.len = 0;
  a->at = 10;
  if (!stralloc_cats(&a->s, "postmaster@") || !stralloc_cats(&a->s, c->me) || !stralloc_0(&a->s)) return 0;
  a->s.len--;
  a->flags &= ~ADDR_NODOMAIN;
  return 1;
}

/* A recipient in a local domain must be a user or an alias (users.cdb,
 * aliases.cdb), so we never accept what tern-local would bounce.
 * postmaster is always accepted (RFC 5321 4.5.1): alias it. Tables not built
 * yet: accepted, tern-local defers until they are. 1 accepted, 0 refused. */
static int local_known(rcpt_ctx const *c, addr *a, rcpt_verdict *v)
{
  int known;
  if (!users_is_local(&c->relay->locals, a->s.s) || !strncasecmp(a->s.s, "postmaster@", 11)) return 1;
  known = users_known(a->s.s);
  if (known < 0 && errno != ENOENT)
    return refuse(v, "451 4.3.0 Cannot read the user tables; try again later", "users.cdb unreadable");
  if (!known) return refuse(v, "550 5.1.1 No such user here", "unknown user");
  return 1;
}

int rcpt_check(rcpt_ctx const *c, addr *a, rcpt_verdict *v)
{
  int trusted = c->relayclient || c->authuser;
  int ours;
  if (a->flags & ADDR_NODOMAIN)
  {
    if (strcasecmp(a->s.s, "postmaster"))
      return refuse(v, "553 5.1.3 Recipient address needs a domain: use user@domain", "no domain");
    if (!postmaster(c, a)) return refuse(v, "451 4.3.0 Out of memory; try again later", "out of memory");
    ours = 1;
  }
  else
  {
    if ((a->flags & ADDR_ROUTING) && !trusted)
      return refuse(v, "553 5.7.1 Routing characters (% ! @) in the local part are not accepted from this client", "routing characters");
    ours = relay_ours(c->relay, addr_domainpart(a));
    if (ours < 0) return refuse(v, "451 4.3.0 Cannot read control/morercpthosts.cdb; try again later", "morercpthosts.cdb unreadable");
  }
  if (!ours && !trusted)
    return refuse(v, c->relay->have_rcpthosts
      ? "553 5.7.1 Relaying denied: this server does not accept mail for that domain from you; send through your own provider's server or authenticate"
      : "553 5.7.1 Relaying denied: this server accepts mail for no domain yet (control/rcpthosts is missing)",
      c->relay->have_rcpthosts ? "relaying denied" : "relaying denied (no rcpthosts)");
  if (!local_known(c, a, v)) return 0;
  if (c->relayclient && *c->relayclient)
  {
    if (!stralloc_cats(&a->s, c->relayclient) || !stralloc_0(&a->s))
      return refuse(v, "451 4.3.0 Out of memory; try again later", "out of memory");
    a->s.len--;
  }
  v->ok = 1;
  v->reply = "250 2.1.5 Recipient ok";
  v->reason = ours ? "ok" : "ok (relay client)";
  return 1;
}
