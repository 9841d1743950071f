/* rules_addr.c: unit tests for client address and host name normalization. */
#include <string.h>
#include <skalibs/ip46.h>
#include "../../rules/rules_parse.h"
#include "../../rules/rules_addr.h"
#include "tap.h"

char const *PROG = "rules_addr.t";

int main(void)
{
  ip46 ip;
  char host[RULES_HOST_MAX + 2];
  char big[400];
  static char const mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff, 127, 0, 0, 2 };
  ok(rules_addr_scan("127.0.0.2", &ip) && !ip46_is6(&ip) && !memcmp(ip.ip, "\177\0\0\2", 4), "IPv4 scan");
  ok(rules_addr_scan("2001:db8::1", &ip) && ip46_is6(&ip), "IPv6 scan");
  ok(rules_addr_scan("::ffff:7f00:2", &ip) && !ip46_is6(&ip) && !memcmp(ip.ip, "\177\0\0\2", 4),
     "an IPv4-mapped address becomes IPv4");
  ip46_from_ip6(&ip, mapped);
  rules_addr_unmap(&ip);
  ok(!ip46_is6(&ip) && !memcmp(ip.ip, "\177\0\0\2", 4), "unmap in place");
  ok(!rules_addr_scan("127.0.0.2x", &ip), "trailing junk refused");
  ok(!rules_addr_scan("", &ip), "empty refused");
  ok(!rules_addr_scan("1.2.3", &ip), "three octets refused");
  ok(rules_host_normalize(host, "Mail.Example.ORG.") && !strcmp(host, "mail.example.org"), "host lowercased, dot dropped");
  ok(!rules_host_normalize(host, "evil host"), "space refused");
  ok(!rules_host_normalize(host, "a\nb"), "newline refused");
  ok(!rules_host_normalize(host, "a:b"), "colon refused (it would split log fields)");
  ok(!rules_host_normalize(host, "."), "lone dot refused");
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  ok(!rules_host_normalize(host, big), "overlong name refused");
  big[RULES_HOST_MAX] = 0;
  ok(rules_host_normalize(host, big) && strlen(host) == RULES_HOST_MAX, "253 characters accepted");
  return done_testing();
}
