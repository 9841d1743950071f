/* remote_stsfetch.c: fetching an MTA-STS policy over HTTPS (RFC 8461 3.3):
 * GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt, the certificate
 * verified against the anchors and the name mta-sts.DOMAIN, no redirects.
 *
 * HTTP/1.0 is asked for, so the answer comes without a transfer encoding
 * and ends with the connection. The whole answer is bounded (the policy's
 * maximum plus 16 KiB of header) and so is its time (each step, and the
 * exchange as a whole, within the fetch timeout). */
#include <stdlib.h>
#include <string.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "dns.h"
#include "mtasts.h"
#include "remote_conn.h"
#include "remote_tls.h"
#include "remote_sts.h"

#define HEADER_MAX 16384
#define ADDRS_MAX 8

static int fail(stralloc *why, char const *a, char const *b, char const *c)
{
  why->len = 0;
  if (!stralloc_cats(why, a) || !stralloc_cats(why, b ? b : "") || !stralloc_cats(why, c ? c : "")
   || !stralloc_0(why)) why->len = 0;
  return 0;
}

static uint16_t https_port(void)
{
  char const *p = getenv("TERN_MTASTS_PORT");
  uint16_t port;
  if (p && *p && uint160_scan(p, &port) == strlen(p) && port) return port;
  return STS_PORT_DEFAULT;
}

/* The addresses of host, IPv4 first. How many, or -1 (why). */
static int addrs(char const *host, ip46 *ip, unsigned int timeout, stralloc *why)
{
  dns d;
  dns_result r[2];
  tain deadline;
  int k, n = 0, temp = 0;
  if (!dns_init(&d, 0)) return fail(why, "cannot set up DNS", 0, 0), -1;
  dns_result_init(r); dns_result_init(r + 1);
  dns_query(&d, r, host, DNS_A);
  dns_query(&d, r + 1, host, DNS_AAAA);
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, timeout);
  dns_run(&d, &deadline);
  for (k = 0; k < 2; k++)
  {
    size_t i, c = r[k].status == DNS_OK ? dns_rr_count(&r[k]) : 0;
    for (i = 0; i < c && n < ADDRS_MAX; i++) dns_rr_ip46(&r[k], i, ip + n++);
    if (r[k].status == DNS_TEMP) temp = 1;
  }
  if (!n) fail(why, host, temp ? ": address lookup failed: " : " has no address", temp ? dns_strerror(r) : 0);
  dns_result_free(r); dns_result_free(r + 1);
  dns_free(&d);
  return n ? n : -1;
}

/* One exchange on an open connection. 1 ok (the whole answer in resp). */
static int exchange(conn *c, char const *host, anchors const *a, size_t max, stralloc *resp, stralloc *why)
{
  char err[200], buf[4096];
  tain deadline;
  stralloc req = STRALLOC_ZERO;
  int ok;
  c->tls = rtls_start(c->fd, c->timeout, host, a, 0, err, sizeof err);
  if (!c->tls) return fail(why, host, ": ", err);
  ok = stralloc_cats(&req, "GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: ") && stralloc_cats(&req, host)
    && stralloc_cats(&req, "\r\nUser-Agent: tern\r\nConnection: close\r\n\r\n");
  ok = ok && rtls_write(c->tls, req.s, req.len);
  stralloc_free(&req);
  if (!ok) return fail(why, host, ": ", rtls_error(c->tls));
  tain_now_g();
  tain_addsec_g(&deadline, c->timeout);
  resp->len = 0;
  for (;;)
  {
    ssize_t r = rtls_read(c->tls, buf, sizeof buf);
    if (!r) break;
    if (r < 0)
    {
      /* Many servers drop TCP without close_notify: an answer that is
       * complete by its Content-Length (checked by the parser) is fine. */
      if (resp->len) break;
      return fail(why, host, ": ", rtls_error(c->tls));
    }
    if (resp->len + (size_t)r > max) return fail(why, host, ": the answer is too large (control/mtastsmaxbytes)", 0);
    if (!stralloc_catb(resp, buf, (size_t)r)) return fail(why, "out of memory", 0, 0);
    tain_now_g();
    if (tain_less(&deadline, &STAMP)) return fail(why, host, ": the answer took too long", 0);
  }
  return 1;
}

int sts_fetch(char const *domain, anchors const *a, unsigned int ctimeout, unsigned int timeout,
              size_t maxbytes, stralloc *body, stralloc *why)
{
  stralloc host = STRALLOC_ZERO, resp = STRALLOC_ZERO;
  ip46 ip[ADDRS_MAX];
  conn c = { .fd = -1, .out = STRALLOC_ZERO };
  uint16_t port = https_port();
  int n, i, ret = 0;
  if (!stralloc_cats(&host, "mta-sts.") || !stralloc_cats(&host, domain) || !stralloc_0(&host))
    return fail(why, "out of memory", 0, 0);
  n = addrs(host.s, ip, timeout, why);
  for (i = 0; i < n && !ret; i++)
  {
    size_t off, len;
    char const *perr;
    if (!conn_open(&c, ip + i, port, ctimeout, timeout)) { fail(why, host.s, ": cannot connect: ", c.err); continue; }
    if (exchange(&c, host.s, a, maxbytes + HEADER_MAX, &resp, why))
    {
      if (!mtasts_http_body(resp.s, resp.len, &off, &len, &perr)) fail(why, host.s, ": ", perr);
      else if (len > maxbytes) fail(why, host.s, ": the policy is too large (control/mtastsmaxbytes)", 0);
      else if (!stralloc_copyb(body, resp.s + off, len)) fail(why, "out of memory", 0, 0);
      else ret = 1;
    }
    conn_close(&c);
  }
  stralloc_free(&host);
  stralloc_free(&resp);
  stralloc_free(&c.out);
  return ret;
}
