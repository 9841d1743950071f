/* tern-tcpserver: ucspi-tcp's tcpserver on skalibs: accept TCP connections, apply the rules cdb, run a program per client.
 *
 * Interface: ucspi-tcp's tcpserver (options, environment, log lines), see
 * docs/tern-tcpserver.8; the rules are tern-tcprules' cdb (docs/rules.md).
 * Shape: main parses options, binds, drops privileges, then
 * tcpserver_loop() accepts and forks; tcpserver_child() decides and execs.
 * Pool mode (-w, docs/pool.md): tcpserver_pool() hands each connection
 * and the same environment to a pre-started pool-aware worker.
 *
 * SECURITY: runs as root only long enough to bind; refuses to run client
 * programs as root unless told with -u 0. Trusts the rules cdb (fails closed
 * when it is missing or corrupt) and nothing from the network: the reverse
 * DNS name and the ident answer are checked for shape before use, and
 * neither is looked up unless asked (-h, host rules, -r).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <skalibs/buffer.h>
#include <skalibs/env.h>
#include <skalibs/fmtscan.h>
#include <skalibs/ip46.h>
#include <skalibs/setgroups.h>
#include <skalibs/sgetopt.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "tcpserver.h"
#include "tcpserver_slots.h"

#define USAGE "tern-tcpserver [ -1 ] [ -q | -Q | -v ] [ -c limit ] [ -C perclient ] [ -m bits4 ] [ -M bits6 ] [ -S stresspct ] [ -x rules.cdb [ -X ] ] [ -B banner ] [ -u uid ] [ -g gid ] [ -U ] [ -b backlog ] [ -h | -H ] [ -p | -P ] [ -l localname ] [ -r | -R ] [ -t timeout ] [ -d | -D ] [ -o | -O ] [ -w sessions [ -k spare ] [ -K seconds ] ] host port prog..."

char const *PROG = "tern-tcpserver";

static void uintopt(char const *arg, unsigned int *u, unsigned int min)
{
  if (!uint0_scan(arg, u) || *u < min) strerr_dieusage(100, USAGE);
}

static void options_env_ids(tcpserver *t)
{
  char const *u = getenv("UID"), *g = getenv("GID");
  if (!u || !g || !uid0_scan(u, &t->uid) || !gid0_scan(g, &t->gid))
    strerr_dief(100, "-U needs numeric $UID and $GID");
  t->setuid = t->setgid = 1;
}

static int options(tcpserver *t, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "1qQvc:C:m:M:S:x:XB:u:g:Ub:hHpPl:rRt:dDoOw:k:K:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case '1': t->printport = 1; break;
      case 'q': t->verbosity = 0; break;
      case 'Q': t->verbosity = 1; break;
      case 'v': t->verbosity = 2; break;
      case 'c': uintopt(l.arg, &t->maxconn, 1); break;
      case 'C': uintopt(l.arg, &t->maxperip, 0); break;
      case 'm': uintopt(l.arg, &t->bits4, 1); if (t->bits4 > 32) strerr_dieusage(100, USAGE); break;
      case 'M': uintopt(l.arg, &t->bits6, 1); if (t->bits6 > 128) strerr_dieusage(100, USAGE); break;
      case 'S': uintopt(l.arg, &t->stresspct, 0); if (t->stresspct > 100) strerr_dieusage(100, USAGE); break;
      case 'x': t->rules = l.arg; break;
      case 'X': t->rules_missing_ok = 1; break;
      case 'B': t->banner = l.arg; break;
      case 'u': if (!uid0_scan(l.arg, &t->uid)) strerr_dieusage(100, USAGE); t->setuid = 1; break;
      case 'g': if (!gid0_scan(l.arg, &t->gid)) strerr_dieusage(100, USAGE); t->setgid = 1; break;
      case 'U': options_env_ids(t); break;
      case 'b': uintopt(l.arg, &t->backlog, 1); break;
      case 'h': t->lookuphost = 1; break;
      case 'H': t->lookuphost = 0; break;
      case 'p': t->paranoid = 1; break;
      case 'P': t->paranoid = 0; break;
      case 'l': t->localname = l.arg; break;
      case 'r': t->ident = 1; break;
      case 'R': t->ident = 0; break;
      case 't': uintopt(l.arg, &t->timeout, 1); break;
      case 'd': t->nodelay = 0; break;
      case 'D': t->nodelay = 1; break;
      case 'o': t->keepipoptions = 1; break;
      case 'O': t->keepipoptions = 0; break;
      case 'w': uintopt(l.arg, &t->poolsessions, 0); break;
      case 'k': uintopt(l.arg, &t->poolspare, 0); break;
      case 'K': uintopt(l.arg, &t->poolidle, 1); break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  return l.ind;
}

/* 1 for "::" and IPv4-mapped addresses. */
static int dual_stack(char const *ip)
{
  static char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff };
  static char const zero[16] = { 0 };
  return !memcmp(ip, zero, 16) || !memcmp(ip, mapped, 12);
}

/* "0" (every IPv4 address), a dotted quad, or any IPv6 text form,
 * including the mixed ::ffff:a.b.c.d that skalibs' scanner does not read
 * (inet_pton does). 1 ok, 0 not an address. */
static int scan_host(char const *host, ip46 *ip)
{
  char a[16] = { 0 };
  size_t n;
  if (!strcmp(host, "0")) { ip46_from_ip4(ip, a); return 1; }
  if (strchr(host, ':'))
  {
    if (inet_pton(AF_INET6, host, a) != 1) return 0;
    ip46_from_ip6(ip, a);
    return 1;
  }
  n = ip4_scan(host, a);
  if (!n || host[n]) return 0;
  ip46_from_ip4(ip, a);
  return 1;
}

/* host: an address, "0" (every IPv4 address), "::" (IPv6 and, where the
 * system allows, IPv4 too) or ::ffff:a.b.c.d (that IPv4 address, through an
 * IPv6 socket). */
static void listen_on(tcpserver *t, char const *host, char const *port)
{
  char ip[16] = { 0 };
  switch (tcpserver_port(port, TCPSERVER_SERVICES, &t->localport))
  {
    case 1: break;
    case -1: strerr_diefusys(111, "read ", TCPSERVER_SERVICES, " for the port ", port);
    default:
      if (errno == ENOENT) strerr_dief(100, "unknown service: ", port, " (not a TCP service in " TCPSERVER_SERVICES ")");
      strerr_dief(100, "bad port: ", port, " (a number from 0 to 65535 or a service name)");
  }
  if (!scan_host(host, &t->localip))
    strerr_dief(100, "host must be an IP address, 0 or ::, not ", host);
  t->is6 = ip46_is6(&t->localip);
  t->lfd = t->is6 ? socket_tcp6_nbcoe() : socket_tcp4_nbcoe();
  if (t->lfd < 0) strerr_diefusys(111, "create socket");
  if (t->is6 && dual_stack(t->localip.ip))
  {
    /* skalibs makes IPv6 sockets IPv6-only; "::" and ::ffff:a.b.c.d take
       IPv4 clients too (they are unmapped back to IPv4 per connection) */
    int no = 0;
    if (setsockopt(t->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no) < 0)
      strerr_diefusys(111, "make the socket dual-stack");
  }
  if ((t->is6 ? socket_bind6_reuse(t->lfd, t->localip.ip, t->localport)
              : socket_bind4_reuse(t->lfd, t->localip.ip, t->localport)) < 0)
    strerr_diefusys(111, "bind to ", host, " port ", port);
  if (socket_listen(t->lfd, (int)t->backlog) < 0) strerr_diefusys(111, "listen on ", host, " port ", port);
  if ((t->is6 ? socket_local6(t->lfd, ip, &t->localport) : socket_local4(t->lfd, ip, &t->localport)) < 0)
    strerr_diefusys(111, "getsockname");
}

/* After bind, before any client: groups, gid, uid, in that order. */
static void drop(tcpserver const *t)
{
  if (t->setgid)
  {
    if (!geteuid() && skalibs_setgroups(1, &t->gid) < 0) strerr_diefusys(111, "setgroups");
    if (setgid(t->gid) < 0) strerr_diefusys(111, "setgid");
  }
  if (t->setuid && setuid(t->uid) < 0) strerr_diefusys(111, "setuid");
  if (!geteuid() && !t->setuid)
    strerr_dief(100, "refusing to run client programs as root: give -u and -g (or -U)");
  if (t->setuid && t->uid && !setuid(0)) strerr_dief(111, "could still regain root after dropping it");
}

int main(int argc, char const *const *argv)
{
  tcpserver t = { .maxconn = 40, .bits4 = SLOTS_BITS4, .bits6 = SLOTS_BITS6, .stresspct = SLOTS_STRESS_PCT,
                  .backlog = 256, .verbosity = 1, .timeout = 26, .lfd = -1,
                  .poolspare = 4, .poolidle = 60 };
  int i = options(&t, argc, argv);
  argc -= i; argv += i;
  if (argc < 3) strerr_dieusage(100, USAGE);
  t.argv = argv + 2;
  listen_on(&t, argv[0], argv[1]);
  drop(&t);
  if (t.printport)
  {
    char fmt[UINT16_FMT];
    size_t n = uint16_fmt(fmt, t.localport);
    fmt[n++] = '\n';
    if (buffer_putflush(buffer_1, fmt, n) < 0) strerr_diefusys(111, "write to stdout");
  }
  return tcpserver_loop(&t);
}
