/* rbl_lookup.c: the DNSBL queries and the pass/block decision of tern-rblsmtpd. */
#include <string.h>
#include <skalibs/bytestr.h>
#include <skalibs/fmtscan.h>
#include <skalibs/stralloc.h>
#include <skalibs/ip46.h>
#include "dns.h"
#include "rbl_lookup.h"

/* What one list's A answer says (RFC 5782 section 2.3: listed entries are
 * 127.0.0.2 and up; 127.0.0.1 is never listed, and lists such as Spamhaus
 * answer 127.255.255.x to mean "your query was refused or wrong"). */
enum { A_LISTED, A_NONE, A_NXDOMAIN, A_TEMP, A_BADCODE };
enum { L_CLEAN, L_LISTED, L_FAILED };

static int a_class(dns_result const *a)
{
  size_t i;
  if (a->status == DNS_NOTFOUND) return a->ares_status == ARES_ENOTFOUND ? A_NXDOMAIN : A_NONE;
  if (a->status != DNS_OK) return A_TEMP;
  for (i = 0; i < dns_rr_count(a); i++)
  {
    unsigned char const *p = (unsigned char const *)dns_rr_ptr(a, i);
    if (dns_rr_at(a, i)->len != 4 || p[0] != 127) continue;
    if (p[1] == 255 && p[2] == 255) continue;
    if (!p[1] && !p[2] && p[3] < 2) continue;
    return A_LISTED;
  }
  return A_BADCODE;
}

/* A blocklist's verdict from its A and TXT answers. A TXT record alone lists
 * (rblsmtpd's rule: lists that publish only TXT exist); an error code in A
 * never does, whatever the TXT says. */
static int classify(dns_result const *a, dns_result const *txt)
{
  int c = a_class(a);
  if (c == A_LISTED) return L_LISTED;
  if (c == A_BADCODE) return L_FAILED;
  if (txt->status == DNS_OK) return L_LISTED;
  if (c == A_NXDOMAIN) return L_CLEAN;
  if (txt->status == DNS_NOTFOUND && (c == A_NONE || txt->ares_status == ARES_ENOTFOUND)) return L_CLEAN;
  return L_FAILED;
}

/* Why a list failed, for the log: the failing answer's text. */
static char const *fail_reason(dns_result const *a, dns_result const *txt)
{
  if (a_class(a) == A_BADCODE) return "list answered an error code";
  return dns_strerror(a->status == DNS_TEMP ? a : txt);
}

void rbl_start(dns *d, dns_result *results, rbl_list const *lists, size_t nlists, ip46 const *ip)
{
  stralloc name = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < nlists; i++)
  {
    dns_result *r = results + 2 * i;
    name.len = 0;
    if (!dns_name_rev(&name, ip, lists[i].base))
    {
      r[0].status = r[1].status = DNS_TEMP;
      r[0].ares_status = r[1].ares_status = ARES_ENOMEM;
      continue;
    }
    dns_query(d, &r[0], name.s, DNS_A);
    if (lists[i].allow) r[1].status = DNS_NOTFOUND;   /* allowlists: A only */
    else dns_query(d, &r[1], name.s, DNS_TXT);
  }
  stralloc_free(&name);
}

int rbl_clean_text(stralloc *sa, char const *s, size_t len)
{
  size_t i, start = sa->len;
  while (len && (*s == ' ' || *s == '\t')) { s++; len--; }
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
  if (len > RBL_TEXT_MAX) len = RBL_TEXT_MAX;
  if (!stralloc_catb(sa, s, len)) return 0;
  for (i = start; i < sa->len; i++)
    if ((unsigned char)sa->s[i] < 32 || (unsigned char)sa->s[i] > 126) sa->s[i] = '?';
  if (!stralloc_0(sa)) return 0;
  sa->len--;
  return 1;
}

static int set(rbl_decision *dec, int verdict, int code, char const *list)
{
  dec->verdict = verdict;
  dec->code = code;
  dec->list = list;
  dec->text.len = 0;
  return 1;
}

static int say(rbl_decision *dec, char const *a, char const *b, char const *c, char const *d)
{
  if (!stralloc_cats(&dec->text, a) || !stralloc_cats(&dec->text, b)
      || !stralloc_cats(&dec->text, c) || !stralloc_cats(&dec->text, d)) return 0;
  if (!stralloc_0(&dec->text)) return 0;
  dec->text.len--;
  return 1;
}

static int block_listed(rbl_decision *dec, rbl_list const *l, dns_result const *txt, char const *ipstr, int code)
{
  set(dec, RBL_BLOCK, code, l->base);
  if (txt->status == DNS_OK)
  {
    if (!rbl_clean_text(&dec->text, dns_rr_ptr(txt, 0), dns_rr_at(txt, 0)->len)) return 0;
    if (dec->text.len) return 1;
  }
  return say(dec, "your address ", ipstr, " is listed in ", l->base);
}

int rbl_decide(rbl_decision *dec, rbl_list const *lists, size_t nlists, dns_result const *res,
               ip46 const *ip, rbl_options const *o)
{
  char ipstr[IP46_FMT];
  size_t i;
  long afail = -1, listed = -1, failed = -1;
  ipstr[ip46_fmt(ipstr, ip)] = 0;
  for (i = 0; i < nlists; i++)
  {
    if (!lists[i].allow) continue;
    switch (a_class(res + 2 * i))
    {
      case A_LISTED:
        set(dec, RBL_PASS, 0, lists[i].base);
        return say(dec, "allowlisted in ", lists[i].base, "", "");
      case A_TEMP: case A_BADCODE: if (afail < 0) afail = (long)i; break;
      default: break;
    }
  }
  /* rblsmtpd's fail-open: an allowlist we could not ask counts as a yes */
  if (afail >= 0 && !o->failclosed)
  {
    set(dec, RBL_PASS, 0, lists[afail].base);
    return say(dec, "allowlist lookup failed (", fail_reason(res + 2 * afail, res + 2 * afail + 1), "), failing open (-C)", "");
  }
  for (i = 0; i < nlists; i++)
  {
    int c;
    if (lists[i].allow) continue;
    c = classify(res + 2 * i, res + 2 * i + 1);
    if (c == L_LISTED && listed < 0) listed = (long)i;
    if (c == L_FAILED && failed < 0) failed = (long)i;
  }
  if (listed >= 0)  /* -b's 553 only when no lookup failed: a retry may clear it */
    return block_listed(dec, lists + listed, res + 2 * listed + 1, ipstr, o->permanent && afail < 0 ? 553 : 451);
  if (failed >= 0)
  {
    char const *why = fail_reason(res + 2 * failed, res + 2 * failed + 1);
    if (o->failclosed)
    {
      set(dec, RBL_BLOCK, 451, lists[failed].base);
      return say(dec, "temporary DNS failure checking ", lists[failed].base, " (", why) && say(dec, "), try again later", "", "", "");
    }
    set(dec, RBL_PASS, 0, lists[failed].base);
    return say(dec, "lookup failed (", why, "), failing open (-C)", "");
  }
  set(dec, RBL_PASS, 0, 0);
  return say(dec, nlists ? "not listed" : "no lists given", "", "", "");
}

int rbl_from_env(rbl_decision *dec, char const *rblsmtpd)
{
  int perm = rblsmtpd[0] == '-';
  char const *t = rblsmtpd + perm;
  if (!*rblsmtpd)
  {
    set(dec, RBL_PASS, 0, 0);
    return say(dec, "RBLSMTPD is empty: lookups skipped", "", "", "");
  }
  set(dec, RBL_BLOCK, perm ? 553 : 451, 0);
  if (!rbl_clean_text(&dec->text, t, strlen(t))) return 0;
  return dec->text.len ? 1 : say(dec, "blocked by local rules", "", "", "");
}

int rbl_parse_ip(char const *s, ip46 *ip)
{
  static char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff };
  char ip4[4];
  size_t n = ip46_scan(s, ip);
  if (n && !s[n])
  {
    /* a v4-mapped address is an IPv4 client: log and look it up as one */
    if (ip46_is6(ip) && !memcmp(ip->ip, mapped, 12)) { memcpy(ip4, ip->ip + 12, 4); ip46_from_ip4(ip, ip4); }
    return 1;
  }
  /* skalibs' scanner does not read the dotted tail of a v4-mapped address */
  if (!case_diffb(s, 7, "::ffff:"))
  {
    n = ip4_scan(s + 7, ip4);
    if (n && !s[7 + n]) return (ip46_from_ip4(ip, ip4), 1);
  }
  return 0;
}
