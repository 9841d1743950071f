/* Unit tests for smtpd/rbl_lookup.c: the pass/block decision from DNS outcomes and RBLSMTPD. */
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/ip46.h>
#include "tap.h"
#include "dns.h"
#include "../../smtpd/rbl_lookup.h"

/* Fills r as if c-ares had answered: an A address (dotted) or a TXT text. */
static void answer(dns_result *r, int status, int ares, char const *a, char const *txt)
{
  dns_rr rr = { 0, 0, 0 };
  dns_result_free(r);
  dns_result_init(r);
  r->status = status;
  r->ares_status = ares;
  if (a)
  {
    char ip[4];
    ip4_scan(a, ip);
    stralloc_catb(&r->data, ip, 4);
    rr.len = 4;
    genalloc_append(dns_rr, &r->rrs, &rr);
  }
  if (txt)
  {
    stralloc_cats(&r->data, txt);
    stralloc_0(&r->data);
    rr.len = strlen(txt);
    genalloc_append(dns_rr, &r->rrs, &rr);
  }
}

#define OK_A(r, a) answer(r, DNS_OK, ARES_SUCCESS, a, 0)
#define OK_TXT(r, t) answer(r, DNS_OK, ARES_SUCCESS, 0, t)
#define NX(r) answer(r, DNS_NOTFOUND, ARES_ENOTFOUND, 0, 0)
#define NODATA(r) answer(r, DNS_NOTFOUND, ARES_ENODATA, 0, 0)
#define TEMP(r) answer(r, DNS_TEMP, ARES_ETIMEOUT, 0, 0)

static rbl_list const lists[3] = { { "al.test", 1 }, { "one.test", 0 }, { "two.test", 0 } };
static dns_result res[6];
static rbl_decision dec = RBL_DECISION_ZERO;
static ip46 ip;

static int decide(int permanent, int failclosed)
{
  rbl_options o = { permanent, failclosed };
  return rbl_decide(&dec, lists, 3, res, &ip, &o);
}

static void clean(void)
{
  NX(&res[0]); NODATA(&res[1]); NX(&res[2]); NX(&res[3]); NX(&res[4]); NX(&res[5]);
}

static void decisions(void)
{
  ip46_scan("127.0.0.2", &ip);
  clean();
  ok(decide(0, 0) && dec.verdict == RBL_PASS && !dec.list, "nothing listed: pass");
  is_str(dec.text.s, "not listed", "reason");

  clean(); OK_A(&res[2], "127.0.0.2"); OK_TXT(&res[3], "spam source");
  ok(decide(0, 0) && dec.verdict == RBL_BLOCK && dec.code == 451, "listed: 451 by default");
  is_str(dec.text.s, "spam source", "TXT text shown");
  is_str(dec.list, "one.test", "list named");
  ok(decide(1, 0) && dec.code == 553, "-b: 553");

  clean(); OK_A(&res[4], "127.0.0.10"); NODATA(&res[5]);
  ok(decide(0, 0) && dec.verdict == RBL_BLOCK, "A without TXT lists");
  is_str(dec.text.s, "your address 127.0.0.2 is listed in two.test", "default text names the list");

  clean(); OK_A(&res[2], "127.0.0.2"); OK_TXT(&res[3], "x"); OK_A(&res[0], "127.0.0.2");
  ok(decide(1, 1) && dec.verdict == RBL_PASS, "allowlisted: pass though listed");
  is_str(dec.list, "al.test", "allowlist named");

  clean(); OK_A(&res[2], "127.0.0.2"); TEMP(&res[0]);
  ok(decide(1, 0) && dec.verdict == RBL_PASS, "-C: an allowlist that failed counts as listed (rblsmtpd)");
  ok(decide(1, 1) && dec.verdict == RBL_BLOCK && dec.code == 451, "-c: failed allowlist means not allowlisted, and 451 even with -b");

  clean(); TEMP(&res[2]); TEMP(&res[3]);
  ok(decide(0, 0) && dec.verdict == RBL_PASS, "-C: failed lookup passes");
  is_str(dec.list, "one.test", "failing list named");
  ok(decide(1, 1) && dec.verdict == RBL_BLOCK && dec.code == 451, "-c: failed lookup blocks with 451 even with -b");

  clean(); TEMP(&res[2]); TEMP(&res[3]); OK_A(&res[4], "127.0.0.2");
  ok(decide(1, 1) && dec.verdict == RBL_BLOCK && dec.code == 553 && !strcmp(dec.list, "two.test"),
     "a listing list wins over a failed one");

  clean(); OK_A(&res[2], "127.255.255.254"); OK_TXT(&res[3], "query refused");
  ok(decide(0, 0) && dec.verdict == RBL_PASS, "error code 127.255.255.254 does not list, whatever the TXT");
  ok(decide(0, 1) && dec.verdict == RBL_BLOCK && dec.code == 451, "and counts as a failure under -c");
  clean(); OK_A(&res[2], "127.0.0.1");
  ok(decide(0, 1) && dec.verdict == RBL_BLOCK && dec.code == 451, "127.0.0.1 is never a listing (RFC 5782)");
  clean(); OK_A(&res[2], "10.0.0.2");
  ok(decide(0, 0) && dec.verdict == RBL_PASS && dec.list, "an address outside 127/8 is an error, not a listing");

  clean(); NODATA(&res[2]); OK_TXT(&res[3], "txt-only list");
  ok(decide(0, 0) && dec.verdict == RBL_BLOCK, "TXT alone lists (rblsmtpd)");
  clean(); TEMP(&res[2]); OK_TXT(&res[3], "late A");
  ok(decide(0, 0) && dec.verdict == RBL_BLOCK, "TXT lists when A failed");
  clean(); NODATA(&res[2]); TEMP(&res[3]);
  ok(decide(0, 1) && dec.verdict == RBL_BLOCK && dec.code == 451, "name exists, TXT unknown: a failure");
  clean(); TEMP(&res[2]); NX(&res[3]);
  ok(decide(0, 1) && dec.verdict == RBL_PASS, "NXDOMAIN on TXT clears a failed A (the name does not exist)");
  clean(); TEMP(&res[2]); NODATA(&res[3]);
  ok(decide(0, 1) && dec.verdict == RBL_BLOCK, "NODATA on TXT does not clear a failed A");

  clean(); OK_A(&res[2], "127.0.0.2"); OK_TXT(&res[3], "  bad\r\n250 ok\x01\x7f\xff  ");
  ok(decide(0, 0), "decided");
  is_str(dec.text.s, "bad??250 ok???", "TXT cleaned: no CR/LF or control bytes, trimmed");
  clean(); OK_A(&res[2], "127.0.0.2"); OK_TXT(&res[3], "   ");
  ok(decide(0, 0), "decided");
  is_str(dec.text.s, "your address 127.0.0.2 is listed in one.test", "blank TXT: default text");
}

static void env_and_ip(void)
{
  stralloc sa = STRALLOC_ZERO;
  char big[1000];
  ok(rbl_from_env(&dec, "") && dec.verdict == RBL_PASS, "RBLSMTPD empty: pass");
  ok(rbl_from_env(&dec, "go away") && dec.verdict == RBL_BLOCK && dec.code == 451, "RBLSMTPD text: 451");
  is_str(dec.text.s, "go away", "with the text");
  ok(rbl_from_env(&dec, "-no") && dec.code == 553, "leading '-': 553");
  is_str(dec.text.s, "no", "without the '-'");
  ok(rbl_from_env(&dec, "-") && dec.code == 553, "'-' alone: 553");
  is_str(dec.text.s, "blocked by local rules", "with a default text");

  memset(big, 'x', sizeof big);
  ok(rbl_clean_text(&sa, big, sizeof big) && sa.len == RBL_TEXT_MAX, "text cut at RBL_TEXT_MAX");

  ok(rbl_parse_ip("127.0.0.2", &ip) && !ip46_is6(&ip), "IPv4");
  ok(rbl_parse_ip("2001:db8::2", &ip) && ip46_is6(&ip), "IPv6");
  ok(rbl_parse_ip("::ffff:127.0.0.2", &ip) && !ip46_is6(&ip) && !memcmp(ip.ip, "\177\0\0\2", 4), "v4-mapped dotted");
  ok(rbl_parse_ip("::ffff:7f00:2", &ip) && !ip46_is6(&ip) && !memcmp(ip.ip, "\177\0\0\2", 4), "v4-mapped hex");
  ok(!rbl_parse_ip("127.0.0.2x", &ip), "trailing junk refused");
  ok(!rbl_parse_ip("", &ip), "empty refused");
  ok(!rbl_parse_ip("::ffff:", &ip), "bare prefix refused");
  ok(!rbl_parse_ip("host.example", &ip), "name refused");
  stralloc_free(&sa);
}

int main(void)
{
  size_t i;
  for (i = 0; i < 6; i++) dns_result_init(&res[i]);
  decisions();
  env_and_ip();
  for (i = 0; i < 6; i++) dns_result_free(&res[i]);
  stralloc_free(&dec.text);
  return done_testing();
}
