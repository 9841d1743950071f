/* tern-rblsmtpd.c: refuses SMTP clients listed in DNS blocklists before they reach tern-smtpd.
 *
 * Interface: rblsmtpd's. Runs under tern-tcpserver with the client on fds
 * 0/1 and TCPREMOTEIP set; decides from RBLSMTPD or from DNS (all lists at
 * once, bounded by -t), logs one line, then either execs the rest of its
 * command line or holds a refusing SMTP dialogue itself.
 *
 * SECURITY: runs as the SMTP user and holds nothing secret. DNS answers and
 * client bytes are untrusted: texts are cleaned (rbl_lookup.h), the dialogue
 * is bounded in line length and total time (rbl_dialog.h). */
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include <skalibs/tai.h>
#include <skalibs/exec.h>
#include <skalibs/stralloc.h>
#include "dns.h"
#include "rbl_lookup.h"
#include "rbl_dialog.h"
#include "stress.h"

#define USAGE "tern-rblsmtpd [ -b | -B ] [ -c | -C ] [ -t secs ] [ -s secs ] [ -l maxline ] [ -r base ] [ -a base ] prog..."
#define LISTS_MAX 32
#define dieusage() strerr_dieusage(100, USAGE)

typedef struct conf_s conf;
struct conf_s
{
  rbl_options o;
  unsigned int secs;      /* -t: limit for the lookups, and for the dialogue */
  unsigned int stresssecs;/* -s: the same under stress (TERN_STRESS) */
  unsigned int maxline;   /* -l */
  rbl_list lists[LISTS_MAX];
  size_t nlists;
};

static char const *const *parse_options(conf *c, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "bBcCt:s:l:r:a:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 'b': c->o.permanent = 1; break;
      case 'B': c->o.permanent = 0; break;
      case 'c': c->o.failclosed = 1; break;
      case 'C': c->o.failclosed = 0; break;
      case 't': if (!uint0_scan(l.arg, &c->secs) || !c->secs || c->secs > 86400) dieusage(); break;
      case 's': if (!uint0_scan(l.arg, &c->stresssecs) || !c->stresssecs || c->stresssecs > 86400) dieusage(); break;
      case 'l': if (!uint0_scan(l.arg, &c->maxline) || c->maxline < 64) dieusage(); break;
      case 'r': case 'a':
        if (c->nlists >= LISTS_MAX) strerr_dief(100, "too many lists (at most 32)");
        if (!*l.arg) dieusage();
        c->lists[c->nlists].base = l.arg;
        c->lists[c->nlists++].allow = opt == 'a';
        break;
      default: dieusage();
    }
  }
  if (l.ind >= argc) dieusage();
  c->secs = stress_timeout(c->secs, c->stresssecs);
  return argv + l.ind;
}

/* Every list at once; the decision waits for the slowest answer or -t. */
static void lookup(conf const *c, ip46 const *ip, rbl_decision *dec)
{
  dns d;
  dns_result res[2 * LISTS_MAX];
  tain deadline;
  size_t i;
  /* c-ares retransmits after a third of the limit, so a lost packet is retried in time */
  unsigned int try_ms = c->secs >= 15 ? 5000 : c->secs * 1000 / 3;
  for (i = 0; i < 2 * c->nlists; i++) dns_result_init(res + i);
  if (!dns_init_tuned(&d, 0, try_ms, 3))
  {
    strerr_warnwu("set up DNS (check TERN_DNS)", "");
    for (i = 0; i < 2 * c->nlists; i++) { res[i].status = DNS_TEMP; res[i].ares_status = ARES_EBADSTR; }
  }
  else
  {
    rbl_start(&d, res, c->lists, c->nlists, ip);
    tain_addsec_g(&deadline, (int)c->secs);
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

int main(int argc, char const *const *argv)
{
  conf c = { .o = { 0, 0 }, .secs = 60, .stresssecs = STRESS_TIMEOUT_DEFAULT, .maxline = RBL_LINE_MAX, .nlists = 0 };
  rbl_decision dec = RBL_DECISION_ZERO;
  char const *const *prog;
  char const *env, *ipenv;
  ip46 ip;
  tain start;
  PROG = "tern-rblsmtpd";
  prog = parse_options(&c, argc, argv);
  tain_now_set_stopwatch_g();
  start = STAMP;
  env = getenv("RBLSMTPD");
  ipenv = getenv("TCPREMOTEIP");
  if (!ipenv) ipenv = "";
  if (env)
  {
    if (!rbl_from_env(&dec, env)) strerr_diefu(111, "decide: out of memory");
  }
  else if (!rbl_parse_ip(ipenv, &ip))
  {
    /* cannot ask about an unknown client: a failed lookup, as -c/-C say */
    dec.verdict = c.o.failclosed ? RBL_BLOCK : RBL_PASS;
    dec.code = c.o.failclosed ? 451 : 0;
    if (!stralloc_cats(&dec.text, c.o.failclosed ? "cannot check your address, try again later"
                                                 : "TCPREMOTEIP unset or not an address, failing open (-C)")
        || !stralloc_0(&dec.text)) strerr_diefu(111, "decide: out of memory");
  }
  else lookup(&c, &ip, &dec);
  tain_now_g();
  log_decision(ipenv, &dec, &start);
  if (dec.verdict == RBL_PASS) xexec(prog);
  {
    tain deadline;
    /* a client that hangs up mid-reply ends the dialogue, not by a signal
     * (set only here: an ignored SIGPIPE would survive the exec) */
    sig_ignore(SIGPIPE);
    tain_addsec_g(&deadline, (int)c.secs);
    rbl_dialog(0, 1, dec.code, dec.text.s, c.maxline, &deadline);
  }
  stralloc_free(&dec.text);
  return 0;
}
