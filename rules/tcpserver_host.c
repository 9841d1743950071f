/* tcpserver_host.c: the client's host name for TCPREMOTEHOST and =host rules (PTR, then forward-checked). */
#include <string.h>
#include <skalibs/ip46.h>
#include <skalibs/tai.h>
#include "dns.h"
#include "rules_parse.h"
#include "rules_addr.h"
#include "tcpserver.h"

/* 1 when name's A or AAAA records hold ip. */
static int maps_back(dns *d, char const *name, ip46 const *ip, tain const *deadline)
{
  dns_result r;
  size_t i;
  int found = 0;
  dns_result_init(&r);
  dns_query(d, &r, name, ip46_is6(ip) ? DNS_AAAA : DNS_A);
  dns_run(d, deadline);
  if (r.status == DNS_OK)
    for (i = 0; i < dns_rr_count(&r) && !found; i++)
    {
      ip46 a;
      dns_rr_ip46(&r, i, &a);
      found = ip46_is6(&a) == ip46_is6(ip) && !memcmp(a.ip, ip->ip, ip46_is6(ip) ? 16 : 4);
    }
  dns_result_free(&r);
  return found;
}

/* The name comes from whoever controls the client's reverse zone: it is
 * kept only when it is a plausible host name (rules_host_normalize), and is
 * confirmed when it maps back to the address. */
int tcpserver_host(ip46 const *remote, unsigned int timeout, char *out)
{
  dns d;
  dns_result r;
  tain deadline;
  int ok = 0;
  out[0] = 0;
  if (!dns_init(&d, 0)) return 0;
  dns_result_init(&r);
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, timeout);
  dns_query_ptr(&d, &r, remote);
  dns_run(&d, &deadline);
  if (r.status == DNS_OK && dns_rr_count(&r)
   && rules_host_normalize(out, dns_rr_ptr(&r, 0)))
    ok = maps_back(&d, out, remote, &deadline) ? 2 : 1;
  if (!ok) out[0] = 0;
  dns_result_free(&r);
  dns_free(&d);
  return ok;
}
