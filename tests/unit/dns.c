/* Unit tests for lib/dns.c: DNSBL and PTR names, outcomes without a server. */
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/ip46.h>
#include "tap.h"
#include "dns.h"

static char const *rev(char const *addr, char const *base)
{
  static stralloc sa = STRALLOC_ZERO;
  ip46 ip;
  sa.len = 0;
  if (!ip46_scan(addr, &ip)) return "(bad address)";
  if (!dns_name_rev(&sa, &ip, base)) return "(nomem)";
  return sa.s;
}

static void names(void)
{
  stralloc sa = STRALLOC_ZERO;
  ip46 ip;
  is_str(rev("127.0.0.2", "bl.test"), "2.0.0.127.bl.test", "IPv4 reversed octets (RFC 5782)");
  is_str(rev("192.0.2.255", "x.y"), "255.2.0.192.x.y", "three-digit octets");
  is_str(rev("10.0.0.1", ""), "1.0.0.10", "empty base: no trailing dot");
  is_str(rev("10.0.0.1", 0), "1.0.0.10", "null base");
  is_str(rev("2001:db8::1", "bl.test"),
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test",
    "IPv6 reversed nibbles (RFC 5782)");
  ok(ip46_scan("127.0.0.2", &ip) && dns_name_ptr(&sa, &ip), "ptr name built");
  is_str(sa.s, "2.0.0.127.in-addr.arpa", "in-addr.arpa");
  is_int(sa.len, 22, "len excludes the NUL");
  sa.len = 0;
  ip46_from_ip6(&ip, "\0\0\0\0\0\0\0\0\0\0\377\377\177\0\0\2");
  ok(dns_name_rev(&sa, &ip, "bl.test"), "v4-mapped name built");
  is_str(sa.s, "2.0.0.127.bl.test", "v4-mapped IPv6 is looked up as IPv4");
  sa.len = 0;
  ok(dns_name_ptr(&sa, &ip), "v4-mapped ptr name built");
  is_str(sa.s, "2.0.0.127.in-addr.arpa", "v4-mapped PTR goes to in-addr.arpa");
  sa.len = 0;
  ok(ip46_scan("::1", &ip) && dns_name_ptr(&sa, &ip), "ip6 ptr name built");
  is_str(sa.s, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "ip6.arpa");
  ok(stralloc_cats(&sa, "") && dns_name_rev(&sa, &ip, "z") && sa.len == 72 + 65, "appends to what sa holds");
  stralloc_free(&sa);
}

/* A UDP socket on loopback that never answers. */
static int silent_server(char *csv, size_t n)
{
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &l) < 0) return -1;
  snprintf(csv, n, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
  return fd;
}

static void outcomes(void)
{
  dns d;
  dns_result r[3];
  tain deadline;
  char csv[64];
  int fd = silent_server(csv, sizeof csv);
  ok(fd >= 0, "silent server bound");
  errno = 0;
  ok(!dns_init(&d, "not an address") && errno == EINVAL, "bad server list refused with EINVAL");
  ok(dns_init_tuned(&d, csv, 100, 1), "channel to the silent server");
  dns_result_init(&r[0]); dns_result_init(&r[1]); dns_result_init(&r[2]);
  dns_query(&d, &r[0], "2.0.0.127.bl.test", DNS_TXT);
  dns_query(&d, &r[1], "example.test", DNS_MX);
  is_int(d.pending, 2, "two queries in flight");
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, 10);
  is_int(dns_run(&d, &deadline), 1, "c-ares' own timeout ends them before the deadline");
  ok(r[0].status == DNS_TEMP && r[1].status == DNS_TEMP, "no answer is temporary, not 'not found'");
  is_str(dns_strerror(&r[0]), "timed out", "reason says timed out");
  dns_free(&d);

  ok(dns_init_tuned(&d, csv, 5000, 4), "channel with long retries");
  dns_query(&d, &r[2], "example.test", DNS_A);
  tain_from_millisecs(&deadline, 200);
  tain_now_g();
  tain_add_g(&deadline, &deadline);
  is_int(dns_run(&d, &deadline), 0, "our deadline cuts the lookup short");
  ok(r[2].status == DNS_TEMP && !d.pending, "cut lookup is temporary");
  ok(!tain_less(&r[2].done, &deadline), "and ended at the deadline");
  dns_free(&d);
  dns_result_free(&r[0]); dns_result_free(&r[1]); dns_result_free(&r[2]);
  close(fd);
}

int main(void)
{
  names();
  outcomes();
  return done_testing();
}
