/* remote_mx.c: MX / address lookups and their order for tern-remote. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <skalibs/random.h>
#include <skalibs/tai.h>
#include "control.h"
#include "remote_mx.h"

static int why_set(stralloc *why, char const *a, char const *b, char const *c, char const *d)
{
  why->len = 0;
  return stralloc_cats(why, a) && stralloc_cats(why, b ? b : "") && stralloc_cats(why, c ? c : "")
      && stralloc_cats(why, d ? d : "") && stralloc_0(why);
}

static int add_ifaddrs(selfset *s)
{
  struct ifaddrs *ifa, *i;
  if (getifaddrs(&ifa) < 0) return 0;
  for (i = ifa; i; i = i->ifa_next)
  {
    ip46 ip;
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET)
      ip46_from_ip4(&ip, (char const *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr);
    else if (i->ifa_addr->sa_family == AF_INET6)
      ip46_from_ip6(&ip, (char const *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
    else continue;
    if (!genalloc_append(ip46, &s->ips, &ip)) { freeifaddrs(ifa); return 0; }
  }
  freeifaddrs(ifa);
  return 1;
}

int selfset_load(selfset *s)
{
  stralloc lines = STRALLOC_ZERO;
  size_t i = 0;
  int n = control_readlines(&lines, "ipme");
  if (n < 0) return 0;
  if (!n) { stralloc_free(&lines); return add_ifaddrs(s); }
  while (i < lines.len)
  {
    ip46 ip;
    size_t len = strlen(lines.s + i);
    if (ip46_scan(lines.s + i, &ip) == len && !genalloc_append(ip46, &s->ips, &ip))
    { stralloc_free(&lines); return 0; }
    i += len + 1;
  }
  stralloc_free(&lines);
  return 1;
}

int selfset_has(selfset const *s, ip46 const *ip)
{
  size_t i, n = genalloc_len(ip46, &s->ips);
  ip46 const *a = genalloc_s(ip46 const, &s->ips);
  for (i = 0; i < n; i++)
    if (ip46_is6(a + i) == ip46_is6(ip) && !memcmp(a[i].ip, ip->ip, ip46_is6(ip) ? 16 : 4)) return 1;
  return 0;
}

void mx_shuffle(mxhost *h, size_t n)
{
  size_t i = 0;
  while (i < n)
  {
    size_t j = i + 1;
    while (j < n && h[j].pref == h[i].pref) j++;
    if (j - i > 1) random_unsort((char *)(h + i), j - i, sizeof *h);
    i = j;
  }
}

size_t mx_cut_self(mxhost *h, size_t n, int *loop)
{
  size_t i, keep = 0;
  int found = 0;
  uint16_t best = 0;
  for (i = 0; i < n; i++)
    if (h[i].self && (!found || h[i].pref < best)) { best = h[i].pref; found = 1; }
  *loop = 0;
  if (!found) return n;
  for (i = 0; i < n; i++) if (h[i].pref < best) h[keep++] = h[i];
  *loop = !keep;
  return keep;
}

/* Looks up A and AAAA of names[0..n) at once: r[2i] is A, r[2i+1] AAAA. */
static void lookup_addrs(dns *d, char const *const *names, size_t n, dns_result *r)
{
  tain deadline;
  size_t i;
  for (i = 0; i < n; i++)
  {
    dns_result_init(r + 2 * i);
    dns_result_init(r + 2 * i + 1);
    dns_query(d, r + 2 * i, names[i], DNS_A);
    dns_query(d, r + 2 * i + 1, names[i], DNS_AAAA);
  }
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, MX_DNS_SECONDS);
  dns_run(d, &deadline);
}

/* Appends the addresses of one host (its A, then AAAA results). */
static int add_host(genalloc *t, char const *name, uint16_t port, dns_result const *r)
{
  int k;
  for (k = 0; k < 2; k++)
  {
    size_t i, n = r[k].status == DNS_OK ? dns_rr_count(&r[k]) : 0;
    for (i = 0; i < n && genalloc_len(target, t) < TARGETS_MAX; i++)
    {
      target x;
      memset(&x, 0, sizeof x);
      strncpy(x.name, name, sizeof x.name - 1);
      dns_rr_ip46(&r[k], i, &x.ip);
      x.port = port;
      if (!genalloc_append(target, t, &x)) return 0;
    }
  }
  return 1;
}

static int temp_of(dns_result const *r)
{
  return r[0].status == DNS_TEMP || r[1].status == DNS_TEMP;
}

static int has_self(dns_result const *r, selfset const *self)
{
  int k;
  for (k = 0; k < 2; k++)
  {
    size_t i, n = r[k].status == DNS_OK ? dns_rr_count(&r[k]) : 0;
    for (i = 0; i < n; i++)
    {
      ip46 ip;
      dns_rr_ip46(&r[k], i, &ip);
      if (selfset_has(self, &ip)) return 1;
    }
  }
  return 0;
}

/* From ordered hosts with their lookups to targets. */
static int hosts_to_targets(mxhost *h, size_t n, dns_result const *r, char const *domain,
                            uint16_t port, genalloc *t, stralloc *why)
{
  size_t i;
  dns_result const *temp = 0;
  char const *tempname = 0;
  for (i = 0; i < n; i++)
  {
    dns_result const *hr = r + 2 * h[i].id;
    if (!add_host(t, h[i].name, port, hr)) { why_set(why, "out of memory", 0, 0, 0); return -1; }
    if (temp_of(hr) && !temp) { temp = hr[0].status == DNS_TEMP ? hr : hr + 1; tempname = h[i].name; }
  }
  if (genalloc_len(target, t)) return 1;
  if (temp)
  {
    why_set(why, "DNS: cannot look up the address of ", tempname, ": ", dns_strerror(temp));
    return -1;
  }
  why_set(why, "no mail host for ", domain, " has an address in DNS", 0);
  return 0;
}

static int literal_target(char const *domain, uint16_t port, selfset const *self, genalloc *t, stralloc *why)
{
  relay rl;
  target x;
  char v6[IP46_FMT + 3];
  size_t n = strlen(domain);
  /* RFC 5321 4.1.3: "[IPv6:2001:db8::1]"; the tag is not part of the address
   * (the domain comes lowercased: "[ipv6:...]") */
  if (n > 6 && !strncasecmp(domain, "[IPv6:", 6))
  {
    if (n - 5 > sizeof v6 - 1 || domain[n - 1] != ']') { why_set(why, "bad address literal ", domain, 0, 0); return 0; }
    v6[0] = '[';
    memcpy(v6 + 1, domain + 6, n - 6);
    v6[n - 5] = 0;
    if (!strchr(v6, ':')) { why_set(why, "bad address literal ", domain, 0, 0); return 0; }
    domain = v6;
  }
  if (!route_relay(domain, &rl) || !rl.literal || rl.port)
  { why_set(why, "bad address literal ", domain, 0, 0); return 0; }
  if (selfset_has(self, &rl.ip))
  { why_set(why, "mail loop: ", domain, " is one of my own addresses (#5.4.6)", 0); return 0; }
  memset(&x, 0, sizeof x);
  memcpy(x.name, rl.host, sizeof x.name);
  x.ip = rl.ip;
  x.port = port;
  if (!genalloc_append(target, t, &x)) { why_set(why, "out of memory", 0, 0, 0); return -1; }
  return 1;
}

static int mx_query(dns *d, dns_result *mx, char const *domain)
{
  tain deadline;
  dns_result_init(mx);
  dns_query(d, mx, domain, DNS_MX);
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, MX_DNS_SECONDS);
  dns_run(d, &deadline);
  return mx->status;
}

/* The MX hosts of a DNS_OK result, null MX left out. */
static size_t mx_hosts(dns_result const *mx, mxhost *h)
{
  size_t i, n = 0, c = dns_rr_count(mx);
  for (i = 0; i < c && n < MX_HOSTS_MAX; i++)
  {
    char const *name = dns_rr_ptr(mx, i);
    if (!name[0] || (name[0] == '.' && !name[1])) continue;
    h[n].name = name;
    h[n].pref = dns_rr_at(mx, i)->pref;
    h[n].self = 0;
    h[n].id = (unsigned int)n;
    n++;
  }
  return n;
}

int mx_targets(dns *d, char const *domain, uint16_t port, selfset const *self,
               genalloc *t, stralloc *why)
{
  dns_result mx, r[2 * MX_HOSTS_MAX];
  mxhost h[MX_HOSTS_MAX];
  char const *names[MX_HOSTS_MAX];
  size_t n, i, nlook;
  int st, loop, ret;
  if (domain[0] == '[') return literal_target(domain, port, self, t, why);
  st = mx_query(d, &mx, domain);
  if (st == DNS_TEMP)
  {
    why_set(why, "DNS: cannot look up the MX of ", domain, ": ", dns_strerror(&mx));
    dns_result_free(&mx);
    return -1;
  }
  if (st == DNS_NOTFOUND && mx.ares_status != ARES_ENODATA)
  {
    why_set(why, "DNS: domain ", domain, " does not exist", 0);
    dns_result_free(&mx);
    return 0;
  }
  if (st == DNS_OK)
  {
    n = mx_hosts(&mx, h);
    if (!n)
    {
      why_set(why, "domain ", domain, " does not accept mail (null MX, RFC 7505)", 0);
      dns_result_free(&mx);
      return 0;
    }
  }
  else
  {
    /* No MX: the domain itself is the mail host (RFC 5321 5.1). */
    h[0].name = domain; h[0].pref = 0; h[0].self = 0; h[0].id = 0;
    n = 1;
  }
  mx_shuffle(h, n);
  for (i = 0; i < n; i++) names[h[i].id] = h[i].name;
  lookup_addrs(d, names, n, r);
  nlook = n;
  for (i = 0; i < n; i++)
    h[i].self = (self->me && !strcasecmp(self->me, h[i].name)) || has_self(r + 2 * h[i].id, self);
  n = mx_cut_self(h, n, &loop);
  if (loop)
  {
    why_set(why, "mail loop: I am a best mail host for ", domain, " but it is not a local domain here (#5.4.6)", 0);
    ret = 0;
  }
  else ret = hosts_to_targets(h, n, r, domain, port, t, why);
  for (i = 0; i < 2 * nlook; i++) dns_result_free(r + i);
  dns_result_free(&mx);
  return ret;
}

int mx_relay_targets(dns *d, relay const *rl, uint16_t port, genalloc *t, stralloc *why)
{
  dns_result r[2];
  char const *name = rl->host;
  int ret;
  if (rl->port) port = rl->port;
  if (rl->literal)
  {
    target x;
    memset(&x, 0, sizeof x);
    memcpy(x.name, rl->host, sizeof x.name);
    x.ip = rl->ip;
    x.port = port;
    if (!genalloc_append(target, t, &x)) { why_set(why, "out of memory", 0, 0, 0); return -1; }
    return 1;
  }
  lookup_addrs(d, &name, 1, r);
  if (!add_host(t, name, port, r)) { why_set(why, "out of memory", 0, 0, 0); ret = -1; }
  else if (genalloc_len(target, t)) ret = 1;
  else if (temp_of(r))
  {
    why_set(why, "DNS: cannot look up the address of ", name, ": ",
            dns_strerror(r[0].status == DNS_TEMP ? r : r + 1));
    ret = -1;
  }
  else
  {
    /* A relay the admin named that has no address: a configuration error,
     * which the admin can fix before the message expires. */
    why_set(why, "smtproutes relay ", name, " has no address in DNS", 0);
    ret = -1;
  }
  dns_result_free(r);
  dns_result_free(r + 1);
  return ret;
}
