/* Tests for lib/dns.c against a dnsmasq it starts on loopback: each record
 * type, "not found" versus "temporary", several queries at once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <skalibs/tai.h>
#include <skalibs/ip46.h>
#include "tap.h"
#include "dns.h"

static pid_t dnsmasq_pid;

static void stop_dnsmasq(void)
{
  if (dnsmasq_pid > 0) { kill(dnsmasq_pid, SIGTERM); waitpid(dnsmasq_pid, 0, 0); }
}

static unsigned int free_udp_port(void)
{
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  unsigned int port = 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &l))
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

/* Starts dnsmasq; returns 1 once it answers a query (polled for up to 10 s). */
static int start_dnsmasq(char *csv, size_t n)
{
  struct timespec const pause = { 0, 100000000 };
  char portopt[32];
  unsigned int port = free_udp_port(), i;
  if (!port) return 0;
  snprintf(portopt, sizeof portopt, "--port=%u", port);
  snprintf(csv, n, "127.0.0.1:%u", port);
  dnsmasq_pid = fork();
  if (dnsmasq_pid < 0) return 0;
  if (!dnsmasq_pid)
  {
    char const *argv[] = { "dnsmasq", "--no-daemon", "--conf-file=/dev/null", portopt,
      "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
      "--local-ttl=60", "--pid-file=", "--local=/test/",
      "--mx-host=mx.test,b.mx.test,20", "--mx-host=mx.test,a.mx.test,10", "--mx-host=mx.test,c.mx.test,30",
      "--host-record=a.mx.test,127.0.0.2,::2", "--host-record=b.mx.test,127.0.0.3",
      /* no quotes: dnsmasq keeps quotes given on its command line */
      "--txt-record=txt.test,first part ,second part", "--txt-record=txt.test,other record",
      "--ptr-record=2.0.0.127.in-addr.arpa,a.mx.test",
      "--local=/0.0.127.in-addr.arpa/", 0 };
    freopen("/dev/null", "w", stdout); freopen("/dev/null", "w", stderr);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  atexit(&stop_dnsmasq);
  for (i = 0; i < 100; i++)
  {
    dns d;
    dns_result r;
    tain deadline;
    int st;
    if (waitpid(dnsmasq_pid, &st, WNOHANG) == dnsmasq_pid) { dnsmasq_pid = 0; return 0; }
    if (!dns_init_tuned(&d, csv, 100, 1)) return 0;
    dns_result_init(&r);
    dns_query(&d, &r, "a.mx.test", DNS_A);
    tain_now_set_stopwatch_g();
    tain_addsec_g(&deadline, 1);
    dns_run(&d, &deadline);
    dns_free(&d);
    st = r.status;
    dns_result_free(&r);
    if (st == DNS_OK) return 1;
    nanosleep(&pause, 0);
  }
  return 0;
}

static char const *ipstr(dns_result const *r, size_t i)
{
  static char buf[IP46_FMT];
  ip46 ip;
  dns_rr_ip46(r, i, &ip);
  buf[ip46_fmt(buf, &ip)] = 0;
  return buf;
}

int main(void)
{
  char csv[64];
  dns d;
  dns_result r[9];
  tain deadline;
  unsigned int i;
  if (!start_dnsmasq(csv, sizeof csv)) { printf("1..0 # SKIP dnsmasq did not start\n"); return 0; }
  ok(dns_init_tuned(&d, csv, 1000, 2), "channel to dnsmasq");
  for (i = 0; i < 9; i++) dns_result_init(&r[i]);
  dns_query(&d, &r[0], "mx.test", DNS_MX);
  dns_query(&d, &r[1], "a.mx.test", DNS_A);
  dns_query(&d, &r[2], "a.mx.test", DNS_AAAA);
  dns_query(&d, &r[3], "txt.test", DNS_TXT);
  dns_query(&d, &r[4], "nosuch.test", DNS_A);
  dns_query(&d, &r[5], "b.mx.test", DNS_AAAA);
  dns_query(&d, &r[6], "outside.example", DNS_A);
  {
    ip46 ip;
    ip46_scan("127.0.0.2", &ip);
    dns_query_ptr(&d, &r[7], &ip);
  }
  dns_query(&d, &r[8], "bad..name", DNS_A);
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, 10);
  is_int(dns_run(&d, &deadline), 1, "all answered before the deadline");
  is_int(d.pending, 0, "nothing pending");

  is_int(r[0].status, DNS_OK, "MX found");
  is_int(dns_rr_count(&r[0]), 3, "three MX records");
  ok(dns_rr_count(&r[0]) == 3 && dns_rr_at(&r[0], 0)->pref == 10 && dns_rr_at(&r[0], 2)->pref == 30, "MX sorted by preference");
  is_str(dns_rr_count(&r[0]) ? dns_rr_ptr(&r[0], 0) : "", "a.mx.test", "best MX host first");

  is_int(r[1].status, DNS_OK, "A found");
  is_str(dns_rr_count(&r[1]) ? ipstr(&r[1], 0) : "", "127.0.0.2", "A record address");
  is_int(r[2].status, DNS_OK, "AAAA found");
  is_str(dns_rr_count(&r[2]) ? ipstr(&r[2], 0) : "", "::2", "AAAA record address");
  ok(dns_rr_count(&r[2]) && dns_rr_at(&r[2], 0)->len == 16, "AAAA is 16 bytes");

  is_int(r[3].status, DNS_OK, "TXT found");
  is_int(dns_rr_count(&r[3]), 2, "two TXT records");
  {
    int one = 0, two = 0;
    for (i = 0; i < dns_rr_count(&r[3]); i++)
    {
      if (!strcmp(dns_rr_ptr(&r[3], i), "first part second part")) one++;
      if (!strcmp(dns_rr_ptr(&r[3], i), "other record")) two++;
    }
    ok(one == 1 && two == 1, "strings of one record joined, records apart");
  }

  is_int(r[4].status, DNS_NOTFOUND, "NXDOMAIN is not found");
  is_str(dns_strerror(&r[4]), "no such name", "NXDOMAIN text");
  is_int(r[5].status, DNS_NOTFOUND, "NODATA (name without AAAA) is not found");
  is_str(dns_strerror(&r[5]), "no such record", "NODATA text");
  is_int(r[6].status, DNS_TEMP, "REFUSED is temporary, not 'not found'");
  is_int(r[7].status, DNS_OK, "PTR found");
  is_str(dns_rr_count(&r[7]) ? dns_rr_ptr(&r[7], 0) : "", "a.mx.test", "PTR name");
  is_int(dns_rr_count(&r[7]), 1, "one PTR name");
  is_int(r[8].status, DNS_TEMP, "a malformed name is a temporary failure");

  /* the same channel can be reused, the same result too */
  dns_query(&d, &r[1], "b.mx.test", DNS_A);
  tain_addsec_g(&deadline, 10);
  is_int(dns_run(&d, &deadline), 1, "second round");
  is_str(r[1].status == DNS_OK ? ipstr(&r[1], 0) : "", "127.0.0.3", "result reused");
  is_int(dns_rr_count(&r[1]), 1, "old records gone");
  dns_free(&d);
  for (i = 0; i < 9; i++) dns_result_free(&r[i]);
  return done_testing();
}
