/* rpt_dns.c: the _smtp._tls TXT record of a domain (rpt.h). */
#include <skalibs/tai.h>
#include "dns.h"
#include "rpt.h"

static int say(stralloc *why, char const *a, char const *b)
{
  why->len = 0;
  if (!stralloc_cats(why, a) || !stralloc_cats(why, b) || !stralloc_0(why)) why->len = 0;
  return -1;
}

int rpt_lookup(char const *domain, unsigned int timeout, stralloc *rua, unsigned int *https, stralloc *why)
{
  stralloc name = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  dns d;
  dns_result r;
  tain deadline;
  size_t i, found = 0, start = rua->len;
  int ret = 0;
  *https = 0;
  if (!stralloc_cats(&name, "_smtp._tls.") || !stralloc_cats(&name, domain) || !stralloc_0(&name))
  {
    stralloc_free(&name);
    return say(why, "out of memory", "");
  }
  if (!dns_init(&d, 0))
  {
    stralloc_free(&name);
    return say(why, "cannot set up DNS (bad TERN_DNS or resolv.conf)", "");
  }
  dns_result_init(&r);
  dns_query(&d, &r, name.s, DNS_TXT);
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, timeout);
  dns_run(&d, &deadline);
  if (r.status == DNS_TEMP) ret = say(why, "TXT lookup failed: ", dns_strerror(&r));
  else if (r.status == DNS_OK)
  {
    /* RFC 8460 3: only records that start with v=TLSRPTv1 count, and
     * there must be exactly one, valid */
    for (i = 0; i < dns_rr_count(&r); i++)
    {
      unsigned int h;
      int t;
      tmp.len = 0;
      t = tlsrpt_txt_parse(dns_rr_ptr(&r, i), dns_rr_at(&r, i)->len, &tmp, &h);
      if (!t) continue;
      if (!found++ && t > 0 && stralloc_cat(rua, &tmp)) { *https = h; ret = 1; }
      else ret = 0;
    }
    if (found != 1) { rua->len = start; *https = 0; ret = 0; }
  }
  stralloc_free(&tmp);
  dns_result_free(&r);
  dns_free(&d);
  stralloc_free(&name);
  return ret;
}
