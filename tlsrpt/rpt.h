/* rpt.h: the parts of tern-tlsrpt (RFC 8460 aggregate reports), each
 * calling only those after it: the day's records (rpt_day.c), the
 * recipient domain's TXT record (rpt_dns.c), the JSON report (rpt_json.c),
 * the mail that carries it and its hand-off to tern-inject (rpt_mail.c),
 * and the MTA-STS cache sweep (rpt_sweep.c). */
#ifndef TERN_RPT_H
#define TERN_RPT_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "tlsrpt.h"

#define RPT_TIMEOUT_DEFAULT 30             /* s, control/tlsrpttimeout: each TXT lookup */
#define RPT_KEEPDAYS_DEFAULT 7             /* control/tlsrptkeepdays: then unsent reports are dropped */
#define RPT_MAXBYTES_DEFAULT (64u << 20)   /* control/tlsrptmaxbytes: of a day's records read */
#define RPT_MAXBYTES_CAP (1u << 30)

typedef struct rptconf_s rptconf;
struct rptconf_s
{
  stralloc me;        /* control/me: the submitter */
  stralloc org;       /* control/tlsrptorg, else me: organization-name */
  stralloc contact;   /* control/tlsrptcontact, else postmaster@me: contact-info */
  stralloc from;      /* control/tlsrptfrom, else postmaster@me: From and envelope sender */
  unsigned int timeout, keepdays, maxbytes;
};

/* A day's records, sorted so that a domain's records follow each other,
 * and within it a policy's, then a failure kind's. */
typedef struct rptday_s rptday;
struct rptday_s
{
  stralloc data;      /* the file; the records point into it */
  genalloc recs;      /* tlsrpt_rec */
  size_t bad;         /* lines that are not records */
  int truncated;      /* the file was larger than maxbytes: the rest is not read */
};
#define RPTDAY_ZERO { .data = STRALLOC_ZERO, .recs = GENALLOC_ZERO, .bad = 0, .truncated = 0 }

/* Reads path (at most maxbytes of it). 1 ok, 0 error (errno). */
extern int rptday_load(rptday *d, char const *path, size_t maxbytes);
extern void rptday_free(rptday *d);

/* The TLSRPT record of domain (_smtp._tls.DOMAIN): 1 found (its mailto
 * addresses in rua, NUL-terminated each, *https the https URIs), 0 none
 * or not exactly one valid record (RFC 8460 3), -1 DNS trouble (why). */
extern int rpt_lookup(char const *domain, unsigned int timeout, stralloc *rua, unsigned int *https, stralloc *why);

/* Appends the JSON report (RFC 8460 4) for the n records of one domain r
 * (sorted as rptday keeps them) of day (YYYY-MM-DD) to sa; the session
 * counts in *ok and *failed. 1 ok, 0 out of memory. */
extern int rpt_json(stralloc *sa, rptconf const *c, char const *day, char const *id,
                    tlsrpt_rec const *r, size_t n, unsigned long *ok, unsigned long *failed);

/* The report mail (RFC 8460 5.3: multipart/report; report-type="tlsrpt",
 * the JSON as application/tlsrpt+json in base64) for domain to the
 * addresses in rua (nrua of them, NUL-terminated each). 1 ok, 0 out of memory. */
extern int rpt_message(stralloc *sa, rptconf const *c, char const *domain, char const *day, char const *id,
                       stralloc const *json, char const *rua, size_t nrua, unsigned long ok, unsigned long failed);

/* Hands the message to tern-inject (-f from, the rua addresses). 0
 * queued, 1 refused for good (100), -1 temporary trouble (why). */
extern int rpt_send(rptconf const *c, stralloc const *msg, char const *rua, size_t nrua, stralloc *why);

/* Removes the MTA-STS cache entries (HOME/mtasts) past their max_age, those
 * that do not parse, and temporary files left by a crash. Logs what it did.
 * 1 ok, 0 the directory could not be read. */
extern int rpt_sweep(unsigned int maxbytes, uint64_t now);

#endif
