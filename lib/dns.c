/* dns.c: concurrent DNS lookups over c-ares with clear outcomes (see dns.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <ares.h>
#include <skalibs/uint32.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include "dns.h"

static int const qtype[] = { [DNS_A] = ns_t_a, [DNS_AAAA] = ns_t_aaaa,
  [DNS_MX] = ns_t_mx, [DNS_TXT] = ns_t_txt, [DNS_PTR] = ns_t_ptr };

int dns_init_tuned(dns *d, char const *servers, unsigned int timeout_ms, unsigned int tries)
{
  struct ares_options o;
  int mask = ARES_OPT_FLAGS;
  int e;
  memset(&o, 0, sizeof o);
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  if (timeout_ms) { o.timeout = (int)timeout_ms; mask |= ARES_OPT_TIMEOUTMS; }
  if (tries) { o.tries = (int)tries; mask |= ARES_OPT_TRIES; }
  d->pending = 0;
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) return (errno = ENOMEM, 0);
  e = ares_init_options(&d->ch, &o, mask);
  if (e != ARES_SUCCESS)
  {
    ares_library_cleanup();
    return (errno = e == ARES_ENOMEM ? ENOMEM : EINVAL, 0);
  }
  if (!servers) servers = getenv("TERN_DNS");
  if (servers && *servers)
  {
    e = ares_set_servers_ports_csv(d->ch, servers);
    if (e != ARES_SUCCESS)
    {
      ares_destroy(d->ch);
      ares_library_cleanup();
      return (errno = e == ARES_ENOMEM ? ENOMEM : EINVAL, 0);
    }
  }
  return 1;
}

int dns_init(dns *d, char const *servers)
{
  return dns_init_tuned(d, servers, 0, 0);
}

void dns_free(dns *d)
{
  ares_destroy(d->ch);   /* pending callbacks run with ARES_EDESTRUCTION */
  ares_library_cleanup();
}

void dns_result_init(dns_result *r)
{
  dns_result z = DNS_RESULT_ZERO;
  *r = z;
}

void dns_result_free(dns_result *r)
{
  stralloc_free(&r->data);
  genalloc_free(dns_rr, &r->rrs);
}

/* Appends one record; s is copied, with NULs (possible in TXT) made '?' so
 * the stored string is a C string of the same length. */
static int rr_add(dns_result *r, uint16_t pref, char const *s, size_t len, int bytes)
{
  dns_rr rr = { .pref = pref, .off = r->data.len, .len = len };
  if (!stralloc_catb(&r->data, s, len)) return 0;
  if (!bytes)
  {
    size_t i;
    for (i = rr.off; i < r->data.len; i++) if (!r->data.s[i]) r->data.s[i] = '?';
    if (!stralloc_0(&r->data)) return 0;
  }
  return genalloc_append(dns_rr, &r->rrs, &rr);
}

static int parse_addr(dns_result *r, unsigned char const *abuf, int alen)
{
  struct hostent *h = 0;
  int e = r->type == DNS_A ? ares_parse_a_reply(abuf, alen, &h, 0, 0)
                           : ares_parse_aaaa_reply(abuf, alen, &h, 0, 0);
  size_t want = r->type == DNS_A ? 4 : 16;
  char **p;
  if (e != ARES_SUCCESS) return e;
  if ((size_t)h->h_length != want) { ares_free_hostent(h); return ARES_EBADRESP; }
  for (p = h->h_addr_list; *p; p++)
    if (!rr_add(r, 0, *p, want, 1)) { e = ARES_ENOMEM; break; }
  ares_free_hostent(h);
  return e;
}

static int parse_mx(dns_result *r, unsigned char const *abuf, int alen)
{
  struct ares_mx_reply *mx = 0, *p;
  int e = ares_parse_mx_reply(abuf, alen, &mx);
  if (e != ARES_SUCCESS) return e;
  for (p = mx; p; p = p->next)
    if (!rr_add(r, p->priority, p->host, strlen(p->host), 0)) { e = ARES_ENOMEM; break; }
  ares_free_data(mx);
  return e;
}

/* TXT: the character-strings of one record are joined into one string. */
static int parse_txt(dns_result *r, unsigned char const *abuf, int alen)
{
  struct ares_txt_ext *txt = 0, *p;
  int e = ares_parse_txt_reply_ext(abuf, alen, &txt);
  if (e != ARES_SUCCESS) return e;
  for (p = txt; p && e == ARES_SUCCESS; p = p->next)
  {
    if (p->record_start || !dns_rr_count(r))
    {
      if (!rr_add(r, 0, (char const *)p->txt, p->length, 0)) e = ARES_ENOMEM;
    }
    else
    {
      /* continue the last record: drop its NUL, append, terminate again */
      dns_rr *last = dns_rr_at(r, dns_rr_count(r) - 1);
      size_t i, start = r->data.len - 1;
      r->data.len = start;
      if (!stralloc_catb(&r->data, (char const *)p->txt, p->length) || !stralloc_0(&r->data)) e = ARES_ENOMEM;
      else
      {
        for (i = start; i < r->data.len - 1; i++) if (!r->data.s[i]) r->data.s[i] = '?';
        last->len += p->length;
      }
    }
  }
  ares_free_data(txt);
  return e;
}

/* PTR: c-ares lists every PTR name in h_aliases (h_name is one of them). */
static int parse_ptr(dns_result *r, unsigned char const *abuf, int alen)
{
  struct hostent *h = 0;
  char const zero[4] = { 0, 0, 0, 0 };
  char **p;
  int e = ares_parse_ptr_reply(abuf, alen, zero, 4, AF_INET, &h);
  if (e != ARES_SUCCESS) return e;
  if (h->h_aliases && h->h_aliases[0])
  {
    for (p = h->h_aliases; *p; p++)
      if (!rr_add(r, 0, *p, strlen(*p), 0)) { e = ARES_ENOMEM; break; }
  }
  else if (h->h_name && !rr_add(r, 0, h->h_name, strlen(h->h_name), 0)) e = ARES_ENOMEM;
  ares_free_hostent(h);
  return e;
}

static int mx_cmp(void const *a, void const *b)
{
  dns_rr const *x = a, *y = b;
  if (x->pref != y->pref) return x->pref < y->pref ? -1 : 1;
  return x->off < y->off ? -1 : x->off > y->off;
}

static int parse(dns_result *r, unsigned char const *abuf, int alen)
{
  int e;
  switch (r->type)
  {
    case DNS_A: case DNS_AAAA: e = parse_addr(r, abuf, alen); break;
    case DNS_MX: e = parse_mx(r, abuf, alen); break;
    case DNS_TXT: e = parse_txt(r, abuf, alen); break;
    default: e = parse_ptr(r, abuf, alen); break;
  }
  if (e == ARES_SUCCESS && !dns_rr_count(r)) e = ARES_ENODATA;
  if (e == ARES_SUCCESS && r->type == DNS_MX)
    qsort(genalloc_s(dns_rr, &r->rrs), dns_rr_count(r), sizeof(dns_rr), &mx_cmp);
  return e;
}

static void callback(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
  dns_result *r = arg;
  (void)timeouts;
  if (r->status != DNS_PENDING) return;
  r->owner->pending--;
  if (status == ARES_SUCCESS) status = parse(r, abuf, alen);
  r->ares_status = status;
  if (status == ARES_SUCCESS) r->status = DNS_OK;
  else
  {
    r->data.len = 0;
    genalloc_setlen(dns_rr, &r->rrs, 0);
    /* only a clear answer is "not found"; every other failure is temporary */
    r->status = status == ARES_ENOTFOUND || status == ARES_ENODATA ? DNS_NOTFOUND : DNS_TEMP;
  }
  tain_now_g();
  r->done = STAMP;
}

void dns_query(dns *d, dns_result *r, char const *name, int type)
{
  r->status = DNS_PENDING;
  r->type = type;
  r->ares_status = ARES_SUCCESS;
  r->data.len = 0;
  genalloc_setlen(dns_rr, &r->rrs, 0);
  r->owner = d;
  d->pending++;
  ares_query(d->ch, name, ns_c_in, qtype[type], &callback, r);
}

void dns_query_ptr(dns *d, dns_result *r, ip46 const *ip)
{
  stralloc sa = STRALLOC_ZERO;
  if (!dns_name_ptr(&sa, ip))
  {
    r->owner = d;
    r->type = DNS_PTR;
    r->status = DNS_PENDING;
    d->pending++;
    callback(r, ARES_ENOMEM, 0, 0, 0);
    return;
  }
  dns_query(d, r, sa.s, DNS_PTR);
  stralloc_free(&sa);
}

unsigned int dns_fds(dns *d, iopause_fd *x, unsigned int max, tain *deadline)
{
  ares_socket_t s[ARES_GETSOCK_MAXNUM];
  struct timeval tv, *tp;
  unsigned int i, n = 0;
  /* unsigned: c-ares' own ARES_GETSOCK_WRITABLE shifts 1 into the sign bit */
  uint32_t bits = (uint32_t)ares_getsock(d->ch, s, ARES_GETSOCK_MAXNUM);
  for (i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++)
  {
    short ev = 0;
    if (bits & ((uint32_t)1 << i)) ev |= IOPAUSE_READ;
    if (bits & ((uint32_t)1 << (i + ARES_GETSOCK_MAXNUM))) ev |= IOPAUSE_WRITE;
    if (!ev) continue;
    x[n].fd = s[i];
    x[n].events = ev;
    x[n++].revents = 0;
  }
  tp = ares_timeout(d->ch, 0, &tv);
  if (tp)
  {
    tain rel, abs;
    if (tain_relative_from_timeval(&rel, tp) && tain_add(&abs, &STAMP, &rel)
        && tain_less(&abs, deadline))
      *deadline = abs;
  }
  return n;
}

void dns_process(dns *d, iopause_fd const *x, unsigned int n)
{
  unsigned int i;
  for (i = 0; i < n; i++)
  {
    int rd = x[i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT);
    int wr = x[i].revents & IOPAUSE_WRITE;
    if (rd || wr)
      ares_process_fd(d->ch, rd ? x[i].fd : ARES_SOCKET_BAD, wr ? x[i].fd : ARES_SOCKET_BAD);
  }
  /* no fd: this runs c-ares' retransmissions and timeouts */
  ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

void dns_cancel(dns *d)
{
  ares_cancel(d->ch);   /* callbacks run now with ARES_ECANCELLED */
}

int dns_run(dns *d, tain const *deadline)
{
  tain_now_g();
  while (d->pending)
  {
    iopause_fd x[DNS_FDS_MAX];
    tain dl = *deadline;
    unsigned int n;
    if (!tain_future(deadline)) { dns_cancel(d); return 0; }
    n = dns_fds(d, x, DNS_FDS_MAX, &dl);
    if (iopause_g(x, n, &dl) < 0)
    {
      int e = errno;
      dns_cancel(d);
      errno = e;
      return -1;
    }
    dns_process(d, x, n);
  }
  return 1;
}

void dns_rr_ip46(dns_result const *r, size_t i, ip46 *ip)
{
  dns_rr const *rr = genalloc_s(dns_rr const, &r->rrs) + i;
  if (rr->len == 16) ip46_from_ip6(ip, r->data.s + rr->off);
  else ip46_from_ip4(ip, r->data.s + rr->off);
}

char const *dns_strerror(dns_result const *r)
{
  switch (r->status)
  {
    case DNS_PENDING: return "pending";
    case DNS_OK: return "ok";
    case DNS_NOTFOUND: return r->ares_status == ARES_ENODATA ? "no such record" : "no such name";
    default: break;
  }
  switch (r->ares_status)
  {
    case ARES_ECANCELLED: case ARES_EDESTRUCTION: return "timed out (deadline)";
    case ARES_ETIMEOUT: return "timed out";
    case ARES_ESERVFAIL: return "server failure";
    case ARES_EREFUSED: case ARES_ECONNREFUSED: return "refused";
    default: return ares_strerror(r->ares_status);
  }
}

/* A v4-mapped address (how a dual-stack listener sees an IPv4 client) is
 * looked up as the IPv4 address it carries. */
static int v4mapped(ip46 const *ip)
{
  static char const prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff };
  return ip46_is6(ip) && !memcmp(ip->ip, prefix, 12);
}

int dns_name_rev(stralloc *sa, ip46 const *ip, char const *base)
{
  static char const hex[] = "0123456789abcdef";
  size_t start = sa->len;
  int i;
  char const *v4 = v4mapped(ip) ? ip->ip + 12 : ip->ip;
  if (ip46_is6(ip) && !v4mapped(ip))
  {
    for (i = 15; i >= 0; i--)
    {
      unsigned char c = (unsigned char)ip->ip[i];
      char nib[4] = { hex[c & 15], '.', hex[c >> 4], '.' };
      if (!stralloc_catb(sa, nib, 4)) goto err;
    }
  }
  else
  {
    for (i = 3; i >= 0; i--)
    {
      char buf[UINT32_FMT + 1];
      size_t n = uint32_fmt(buf, (unsigned char)v4[i]);
      buf[n++] = '.';
      if (!stralloc_catb(sa, buf, n)) goto err;
    }
  }
  if (base && *base) { if (!stralloc_cats(sa, base)) goto err; }
  else sa->len--;   /* no suffix: drop the last dot */
  if (!stralloc_0(sa)) goto err;
  sa->len--;
  return 1;
 err:
  sa->len = start;
  return 0;
}

int dns_name_ptr(stralloc *sa, ip46 const *ip)
{
  return dns_name_rev(sa, ip, ip46_is6(ip) && !v4mapped(ip) ? "ip6.arpa" : "in-addr.arpa");
}
