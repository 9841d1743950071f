/* logsum.h: what the log summary and the metrics count, and the one
 * function that reads a log line into those counts (logsum.c). */
#ifndef TERN_LOGSUM_H
#define TERN_LOGSUM_H

#include <stddef.h>
#include <stdint.h>
#include "nametab.h"

/* Services: the log directories (smtp, submission, ...), at most this many;
 * the rest count under "other". */
#define LOGSUM_SVC_MAX 32
#define LOGSUM_SVCNAME 32
/* The longest line read whole; a longer one is counted as damaged. */
#define LOGSUM_LINE_MAX 16384
/* Deliveries and messages waited for (their start seen, their end not yet). */
#define LOGSUM_PENDING_MAX 200000
/* The fine delay histogram: bucket b holds delays up to 2^(b/2) ms. */
#define LOGSUM_DELAY_NB 64

enum { LS_R_RELAY, LS_R_UNKNOWN_USER, LS_R_DNSBL, LS_R_SIZE, LS_R_SYNTAX, LS_R_TOO_MANY_RCPTS,
       LS_R_EARLY_TALKER, LS_R_PIPELINING, LS_R_LOOP, LS_R_BADMAILFROM, LS_R_BADRCPTTO, LS_R_TEMPORARY, LS_R_OTHER, LS_R_N };
enum { LS_CH_LOCAL, LS_CH_REMOTE, LS_CH_UNKNOWN, LS_CH_N };
enum { LS_ST_SENT, LS_ST_DEFERRED, LS_ST_BOUNCED, LS_ST_EXPIRED, LS_ST_N };

extern char const *const logsum_reason[LS_R_N];
extern char const *const logsum_channel[LS_CH_N];
extern char const *const logsum_status[LS_ST_N];

typedef struct logsvc_s logsvc;
struct logsvc_s
{
  char name[LOGSUM_SVCNAME];
  char port[8];              /* the local port of its last connection, or "" */
  uint64_t accepted[2];      /* [1]: authenticated */
  uint64_t conns, denied;
  uint64_t tls_ok, tls_fail;
  uint64_t auth_ok, auth_fail;
  uint64_t active;           /* the last "status: N/M" it logged */
  int active_seen;
};

typedef struct logsum_s logsum;
struct logsum_s
{
  /* what to count: only lines from..to (seconds; 0: no bound) */
  int64_t from, to;
  int names;                   /* keep the top lists (the summary) */
  logsvc svc[LOGSUM_SVC_MAX];
  unsigned int nsvc;
  uint64_t lines, parsed, unknown, damaged, outside, undated;
  uint64_t refused[LS_R_N];
  uint64_t deliv[LS_CH_N][LS_ST_N];
  uint64_t dsn;                /* failure notices sent back */
  uint64_t delay[LS_CH_N][LOGSUM_DELAY_NB];
  uint64_t delay_ms_sum[LS_CH_N];
  uint64_t hour_in[24], hour_out[24];
  int64_t first, last;         /* the times of the first and last counted lines */
  uint64_t newformat;          /* status= lines seen */
  /* the outcomes of the older "delivery N: success" lines, used only when
   * the log has no status= line (logsum_finish): a log with both is not
   * counted twice */
  uint64_t o_deliv[LS_CH_N][LS_ST_N];
  uint64_t o_delay[LS_CH_N][LOGSUM_DELAY_NB];
  uint64_t o_delay_ms_sum[LS_CH_N];
  uint64_t o_hour_out[24];
  char lastjob[24];            /* the delivery whose result lines come now */
  unsigned int lastjob_ch;
  int64_t lastjob_t;
  nametab senders, rcpts, domains;
  nametab jobs;                /* delivery number -> n: channel, t: start */
  nametab msgs;                /* queue ID -> t: when tern-send first saw it */
};

/* A stream of lines: one log directory or file. */
typedef struct logstream_s logstream;
struct logstream_s
{
  logsum *sum;
  unsigned int svc;            /* index into sum->svc */
};

extern int logsum_init(logsum *, int names, size_t namecap);
extern void logsum_free(logsum *);
/* After the last line: picks the outcome lines to count. */
extern void logsum_finish(logsum *);
/* The service index for a name (made if new; "other" once full). */
extern unsigned int logsum_svc(logsum *, char const *name);
/* One line, without its newline; len may hold NULs (a damaged line). */
extern void logsum_line(logstream *, char const *line, size_t len);

/* Times: "YYYY-MM-DD HH:MM:SS[.frac]" (s6-log T; a 'T' between works too)
 * or "@" and 24 hex digits (TAI64N, s6-log t). Returns the length read, 0 if
 * none; *t gets seconds since the epoch (UTC arithmetic), *ms the millis. */
extern size_t logsum_time(char const *s, size_t len, int64_t *t, unsigned int *ms);
/* A day or a time given by the admin: YYYY-MM-DD[(T| )HH:MM[:SS]] */
extern int logsum_parsetime(char const *s, int64_t *t);
/* The fine-histogram bucket of a delay, and its upper bound. */
extern unsigned int logsum_delay_bucket(uint64_t ms);
extern uint64_t logsum_delay_bound(unsigned int b);

#endif
