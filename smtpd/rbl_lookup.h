/* rbl_lookup.h: tern-rblsmtpd's decision: RBLSMTPD, then DNS block and
 * allow lists queried all at once (lib/dns), then one verdict.
 *
 * SECURITY: TXT texts and the RBLSMTPD text end up in an SMTP reply and a
 * log line; rbl_clean_text() keeps printable ASCII only and bounds the
 * length, so a list cannot inject CR/LF (a second reply) or control bytes. */
#ifndef TERN_RBL_LOOKUP_H
#define TERN_RBL_LOOKUP_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include <skalibs/ip46.h>
#include "dns.h"

#define RBL_TEXT_MAX 400     /* bytes of list text shown to a client */

typedef struct rbl_list_s rbl_list;
struct rbl_list_s
{
  char const *base;   /* the list's zone, e.g. "bl.example" */
  int allow;          /* 1: allowlist (-a), 0: blocklist (-r) */
};

enum rbl_verdict { RBL_PASS, RBL_BLOCK };

typedef struct rbl_options_s rbl_options;
struct rbl_options_s
{
  int permanent;    /* -b: 553 for listed clients (default -B: 451) */
  int failclosed;   /* -c: a failed lookup blocks with 451 (default -C: passes) */
};

typedef struct rbl_decision_s rbl_decision;
struct rbl_decision_s
{
  int verdict;           /* enum rbl_verdict */
  int code;              /* 451 or 553 when blocked, 0 when passed */
  char const *list;      /* the list that decided, or 0 */
  stralloc text;         /* blocked: the text for the client; passed: why */
};
#define RBL_DECISION_ZERO { .verdict = RBL_PASS, .code = 0, .list = 0, .text = STRALLOC_ZERO }

/* Per list, the queries that rbl_start sends: A for every list, TXT for
 * blocklists. results must hold 2 * nlists entries. */
extern void rbl_start(dns *d, dns_result *results, rbl_list const *lists, size_t nlists, ip46 const *ip);

/* The verdict from the finished results (pure: unit-tested with results
 * filled by hand). Returns 1, or 0 on ENOMEM. */
extern int rbl_decide(rbl_decision *dec, rbl_list const *lists, size_t nlists, dns_result const *results,
                      ip46 const *ip, rbl_options const *o);

/* RBLSMTPD set (not null): empty passes, text blocks with 451, "-text"
 * blocks with 553. Returns 1, or 0 on ENOMEM. */
extern int rbl_from_env(rbl_decision *dec, char const *rblsmtpd);

/* TCPREMOTEIP as an address; accepts "::ffff:a.b.c.d" too. 1 ok, 0 not an address. */
extern int rbl_parse_ip(char const *s, ip46 *ip);

/* Appends s with bytes outside printable ASCII made '?', surrounding blanks
 * trimmed and at most RBL_TEXT_MAX bytes kept; NUL-terminates (not counted). */
extern int rbl_clean_text(stralloc *sa, char const *s, size_t len);

#endif
