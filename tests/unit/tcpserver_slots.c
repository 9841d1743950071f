/* tcpserver_slots.c: unit tests for tern-tcpserver's slot accounting: client prefixes, -C, stress. */
#include <string.h>
#include <arpa/inet.h>
#include <skalibs/ip46.h>
#include "../../rules/tcpserver_slots.h"
#include "tap.h"

char const *PROG = "tcpserver_slots.t";

static ip46 addr(char const *s)
{
  ip46 ip;
  char a[16];
  if (strchr(s, ':')) { inet_pton(AF_INET6, s, a); ip46_from_ip6(&ip, a); }
  else { inet_pton(AF_INET, s, a); ip46_from_ip4(&ip, a); }
  return ip;
}

/* Takes a slot for address s as id; returns the stress change, or 9 when -C refuses. */
static int take(slots *sl, unsigned long id, char const *s)
{
  ip46 ip = addr(s), c;
  slots_client(sl, &ip, &c);
  if (!slots_admit(sl, &c)) return 9;
  return slots_add(sl, id, &c);
}

static void test_prefixes(void)
{
  slots sl;
  ip46 a, b, c;
  unsigned long i;
  char s[64];
  slots_init(&sl, 100, 3, SLOTS_BITS4, SLOTS_BITS6, 0);
  a = addr("2001:db8:1:2:aaaa::1"); b = addr("2001:db8:1:2:ffff::9"); c = addr("2001:db8:1:3::1");
  slots_client(&sl, &a, &a); slots_client(&sl, &b, &b); slots_client(&sl, &c, &c);
  ok(!memcmp(a.ip, b.ip, 16) && a.is6, "two addresses of one /64 are one client");
  ok(memcmp(a.ip, c.ip, 16), "the next /64 is another client");
  for (i = 0; i < 3; i++)
  {
    s[0] = 0;
    sprintf(s, "2001:db8:1:2::%lx", i + 1);
    is_int(take(&sl, i + 1, s), 0, "-C 3: address %lu of the /64 admitted", i + 1);
  }
  is_int(take(&sl, 9, "2001:db8:1:2:dead:beef::77"), 9, "-C 3: a fourth address of the same /64 is refused");
  is_int(take(&sl, 10, "2001:db8:1:3::1"), 0, "another /64 is admitted");
  is_int(take(&sl, 11, "127.0.0.2"), 0, "IPv4 counts by address (/32) by default");
  is_int(take(&sl, 12, "127.0.0.3"), 0, "... so 127.0.0.3 is another client");
  slots_remove(&sl, 2);
  is_int(take(&sl, 13, "2001:db8:1:2::99"), 0, "a slot freed in the /64 can be taken again");
  slots_free(&sl);

  slots_init(&sl, 100, 2, 24, 128, 0);
  is_int(take(&sl, 1, "10.1.2.3"), 0, "-m 24: 10.1.2.3 admitted");
  is_int(take(&sl, 2, "10.1.2.200"), 0, "-m 24: 10.1.2.200 admitted");
  is_int(take(&sl, 3, "10.1.2.77"), 9, "-m 24 -C 2: a third address of 10.1.2.0/24 refused");
  is_int(take(&sl, 4, "10.1.3.1"), 0, "10.1.3.1 is another /24");
  is_int(take(&sl, 5, "2001:db8::1"), 0, "-M 128: IPv6 by address");
  is_int(take(&sl, 6, "2001:db8::2"), 0, "... 2001:db8::2 is another client");
  is_int(take(&sl, 7, "2001:db8::2"), 0, "... which may have two");
  is_int(take(&sl, 8, "2001:db8::2"), 9, "... but not three");
  slots_free(&sl);

  slots_init(&sl, 10, 0, SLOTS_BITS4, SLOTS_BITS6, 0);
  for (i = 0; i < 10; i++) take(&sl, i + 1, "127.0.0.1");
  ok(slots_full(&sl) && sl.n == 10, "-C 0: one address may take every slot");
  slots_free(&sl);
}

static void test_stress(void)
{
  slots sl;
  unsigned long i;
  int changes = 0;
  slots_init(&sl, 40, 0, SLOTS_BITS4, SLOTS_BITS6, 80);
  for (i = 1; i <= 31; i++) changes += take(&sl, i, "127.0.0.2");
  ok(!sl.stress && !changes, "-c 40 -S 80: no stress with 31 busy");
  is_int(take(&sl, 32, "127.0.0.2"), 1, "the 32nd connection (80%%) brings stress on");
  ok(sl.stress, "stress is on");
  is_int(take(&sl, 33, "127.0.0.2"), 0, "the 33rd changes nothing");
  is_int(slots_remove(&sl, 33), 0, "back to 32: still stress");
  is_int(slots_remove(&sl, 32), 0, "31 busy: still stress (it ends under 70%%, at 27)");
  for (i = 31; i >= 29; i--) is_int(slots_remove(&sl, i), 0, "%lu left: still stress", i - 1);
  is_int(slots_remove(&sl, 28), -1, "27 busy: stress ends");
  ok(!sl.stress, "stress is off");
  is_int(slots_remove(&sl, 999), 0, "an unknown id changes nothing");
  is_int(sl.n, 27, "27 slots still counted");
  slots_free(&sl);

  slots_init(&sl, 40, 0, SLOTS_BITS4, SLOTS_BITS6, 0);
  for (i = 1, changes = 0; i <= 40; i++) changes += take(&sl, i, "127.0.0.2");
  ok(!sl.stress && !changes, "-S 0: never stress, even with every slot busy");
  slots_free(&sl);

  slots_init(&sl, 5, 0, SLOTS_BITS4, SLOTS_BITS6, 80);
  for (i = 1, changes = 0; i <= 3; i++) changes += take(&sl, i, "127.0.0.2");
  ok(!changes, "-c 5 -S 80: 3 busy, no stress");
  is_int(take(&sl, 4, "127.0.0.2"), 1, "-c 5 -S 80: the 4th brings stress");
  is_int(slots_remove(&sl, 4), 0, "back to 3: still stress");
  is_int(slots_remove(&sl, 3), -1, "2 busy: stress ends");
  slots_setid(&sl, 1, 77);
  is_int(slots_remove(&sl, 77), 0, "slots_setid renames a slot");
  is_int(sl.n, 1, "... which is then removed by its new id");
  slots_free(&sl);

  slots_init(&sl, 1, 0, SLOTS_BITS4, SLOTS_BITS6, 80);
  is_int(take(&sl, 1, "127.0.0.2"), 1, "-c 1: the only slot busy is stress");
  is_int(slots_remove(&sl, 1), -1, "and its end ends it");
  slots_free(&sl);
}

int main(void)
{
  test_prefixes();
  test_stress();
  return done_testing();
}
