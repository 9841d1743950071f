/* rbl_check.c: one connection's blocklist decision, its log line and the refusing dialogue (rbl_check.h). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "dns.h"
#include "stress.h"
#include "rbl_dialog.h"
#include "rbl_check.h"

void rbl_conf_init(rbl_conf *c)
{
  memset(c, 0, sizeof *c);
  c->secs = 60;
  c->stresssecs = STRESS_TIMEOUT_DEFAULT;
  c->maxline = RBL_LINE_MAX;
}

int rbl_conf_option(rbl_conf *c, int opt, char const *arg, char const **why)
{
  *why = "bad value";
  switch (opt)
  {
    case 'b': c->o.permanent = 1; return 1;
    case 'B': c->o.permanent = 0; return 1;
    case 'c': c->o.failclosed = 1; return 1;
    case 'C': c->o.failclosed = 0; return 1;
    case 't': return uint0_scan(arg, &c->secs) && c->secs && c->secs <= 86400;
    case 's': return uint0_scan(arg, &c->stresssecs) && c->stresssecs && c->stresssecs <= 86400;
    case 'l': return uint0_scan(arg, &c->maxline) && c->maxline >= 64;
    case 'r': case 'a':
      if (c->nlists >= RBL_LISTS_MAX) { *why = "too many lists (at most 32)"; return 0; }
      if (!*arg) return 0;
      c->lists[c->nlists].base = arg;
      c->lists[c->nlists++].allow = opt == 'a';
      return 1;
    default: return -1;
  }
}

/* Every list at once; the decision waits for the slowest answer or secs. */
static void lookup(rbl_conf const *c, unsigned int secs, ip46 const *ip, rbl_decision *dec)
{
  dns d;
  dns_result res[2 * RBL_LISTS_MAX];
  tain deadline;
  size_t i;
  /* c-ares retransmits after a third of the limit, so a lost packet is retried in time */
  unsigned int try_ms = secs >= 15 ? 5000 : secs * 1000 / 3;
  for (i = 0; i < 2 * c->nlists; i++) dns_result_init(res + i);
  if (!dns_init_tuned(&d, 0, try_ms, 3))
  {
    strerr_warnwu("set up DNS (check TERN_DNS)", "");
    for (i = 0; i < 2 * c->nlists; i++) { res[i].status = DNS_TEMP; res[i].ares_status = ARES_EBADSTR; }
  }
  else
  {
    rbl_start(&d, res, c->lists, c->nlists, ip);
    tain_addsec_g(&deadline, (int)secs);
    if (dns_run(&d, &deadline) < 0) strerr_warnwu("wait for DNS answers", "");
    dns_free(&d);
  }
  if (!rbl_decide(dec, c->lists, c->nlists, res, ip, &c->o)) strerr_diefu(111, "decide: out of memory");
  for (i = 0; i < 2 * c->nlists; i++) dns_result_free(res + i);
}

/* One line per decision: pass/block, IP, code, list, time taken, reason. */
static void log_decision(char const *ip, rbl_decision const *dec, tain const *start)
{
  char ms[UINT_FMT], code[UINT_FMT];
  stralloc ipclean = STRALLOC_ZERO;
  tain el;
  tain_sub(&el, &STAMP, start);
  ms[uint_fmt(ms, (unsigned int)tain_to_millisecs(&el))] = 0;
  code[uint_fmt(code, (unsigned int)dec->code)] = 0;
  if (!rbl_clean_text(&ipclean, ip, strlen(ip))) strerr_diefu(111, "log: out of memory");
  strerr_warni(dec->verdict == RBL_BLOCK ? "block" : "pass", " ip=", ipclean.s,
               " code=", dec->verdict == RBL_BLOCK ? code : "-", " list=", dec->list ? dec->list : "-",
               " ms=", ms, " reason=", dec->text.s);
  stralloc_free(&ipclean);
}

static void decide(rbl_conf const *c, unsigned int secs, char const *ipenv, rbl_decision *dec)
{
  char const *env = getenv("RBLSMTPD");
  ip46 ip;
  if (env)
  {
    if (!rbl_from_env(dec, env)) strerr_diefu(111, "decide: out of memory");
  }
  else if (!rbl_parse_ip(ipenv, &ip))
  {
    /* cannot ask about an unknown client: a failed lookup, as -c/-C say */
    dec->verdict = c->o.failclosed ? RBL_BLOCK : RBL_PASS;
    dec->code = c->o.failclosed ? 451 : 0;
    if (!stralloc_cats(&dec->text, c->o.failclosed ? "cannot check your address, try again later"
                                                   : "TCPREMOTEIP unset or not an address, failing open (-C)")
        || !stralloc_0(&dec->text)) strerr_diefu(111, "decide: out of memory");
  }
  else lookup(c, secs, &ip, dec);
}

int rbl_check(rbl_conf const *c, int in, int out)
{
  rbl_decision dec = RBL_DECISION_ZERO;
  char const *ipenv = getenv("TCPREMOTEIP");
  unsigned int secs = stress_timeout(c->secs, c->stresssecs);
  tain start;
  int pass;
  if (!ipenv) ipenv = "";
  tain_now_set_stopwatch_g();
  start = STAMP;
  decide(c, secs, ipenv, &dec);
  tain_now_g();
  log_decision(ipenv, &dec, &start);
  pass = dec.verdict == RBL_PASS;
  if (!pass)
  {
    tain deadline;
    /* a client that hangs up mid-reply ends the dialogue, not by a signal
     * (tern-rblsmtpd sets it only here: an ignored SIGPIPE would survive
     * its exec) */
    sig_ignore(SIGPIPE);
    tain_addsec_g(&deadline, (int)secs);
    rbl_dialog(in, out, dec.code, dec.text.s, c->maxline, &deadline);
  }
  stralloc_free(&dec.text);
  return pass;
}
