/* dns.h: DNS lookups over c-ares, several in flight at once, for tern-remote
 * (MX, A, AAAA), tern-rblsmtpd (A, TXT) and tern-tcpserver -h (PTR).
 *
 * Interface, in one breath:
 *
 *   dns d;  dns_result r[2];  tain deadline;
 *   if (!dns_init(&d, 0)) die;                  (servers from $TERN_DNS, else resolv.conf)
 *   dns_result_init(&r[0]); dns_result_init(&r[1]);
 *   dns_query(&d, &r[0], "example.test", DNS_MX);
 *   dns_query(&d, &r[1], "example.test", DNS_A);
 *   tain_now_set_stopwatch_g(); tain_addsec_g(&deadline, 10);
 *   dns_run(&d, &deadline);                     (or drive it from your own iopause loop)
 *   r[0].status: DNS_OK / DNS_NOTFOUND / DNS_TEMP; records via dns_rr_*()
 *   dns_result_free(&r[0]); ...; dns_free(&d);
 *
 * Outcomes. Callers decide differently on "the name or record does not exist"
 * (DNS_NOTFOUND: NXDOMAIN, or NODATA = the name exists without records of
 * that type) and "we could not find out" (DNS_TEMP: timeout, SERVFAIL,
 * REFUSED, a malformed or unparsable answer, the deadline passing, out of
 * memory). Anything that is not a clear answer is DNS_TEMP, never NOTFOUND.
 *
 * Driving it from your own loop: before each iopause, dns_fds() adds the
 * c-ares sockets to your iopause_fd array and brings your deadline forward to
 * c-ares' next retransmission; after it, dns_process() hands c-ares what was
 * ready (call it also when iopause timed out: that runs the retransmissions).
 * d->pending counts queries without an outcome. dns_cancel() gives every
 * pending query the outcome DNS_TEMP ("deadline passed").
 *
 * Servers: $TERN_DNS is "ip:port[,ip:port...]" (an IPv6 server is written
 * "[::1]:53"), handed to ares_set_servers_ports_csv; unset or empty, the
 * system's resolv.conf. Names are queried as given (ARES_FLAG_NOSEARCH: no
 * search domains; ARES_FLAG_NOALIASES: no HOSTALIASES file).
 *
 * SECURITY: answers come from the network. Names and TXT strings in results
 * are NUL-terminated copies; c-ares has parsed and bounded them, but they can
 * hold any byte except NUL (TXT) and must be cleaned before they go into a
 * protocol line or a log. Nothing here trusts the answer's size or count
 * beyond what c-ares parsed.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <ares.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/ip46.h>

enum dns_type { DNS_A, DNS_AAAA, DNS_MX, DNS_TXT, DNS_PTR };

enum dns_status
{
  DNS_PENDING = 0,   /* no outcome yet */
  DNS_OK,            /* at least one record, in the result */
  DNS_NOTFOUND,      /* NXDOMAIN or NODATA: definitely no such record */
  DNS_TEMP           /* could not find out: try again later */
};

/* One record of a result. Its bytes are at dns_rr_ptr(): for A 4 bytes and
 * for AAAA 16 bytes (network order); for MX, PTR and TXT a NUL-terminated
 * string (MX: the exchange host, "" for a null MX; PTR: the name; TXT: the
 * character-strings of one record joined without separator). */
typedef struct dns_rr_s dns_rr;
struct dns_rr_s
{
  uint16_t pref;     /* MX preference; 0 for the other types */
  size_t off;        /* offset in the result's data */
  size_t len;        /* 4, 16, or the string's length without its NUL */
};

typedef struct dns_s dns;

typedef struct dns_result_s dns_result;
struct dns_result_s
{
  int status;          /* enum dns_status */
  int type;            /* enum dns_type */
  int ares_status;     /* c-ares' code, for messages (ARES_SUCCESS when OK) */
  stralloc data;       /* the records' bytes */
  genalloc rrs;        /* dns_rr; MX sorted by preference (then answer order) */
  tain done;           /* when the outcome arrived (STAMP then) */
  dns *owner;
};
#define DNS_RESULT_ZERO { .status = DNS_PENDING, .data = STRALLOC_ZERO, .rrs = GENALLOC_ZERO }

struct dns_s
{
  ares_channel ch;
  unsigned int pending;   /* queries started and without an outcome */
};

/* dns_init: a channel with servers from `servers` ("ip:port,...") or, when
 * that is 0, from $TERN_DNS, or else resolv.conf. Returns 1, or 0 with errno
 * set (EINVAL: a bad server list; ENOMEM). dns_init_tuned also sets c-ares'
 * retransmission: the first try waits timeout_ms, later ones longer, tries
 * times per server (0: c-ares' defaults, 5000 ms and 4 tries). */
extern int dns_init(dns *d, char const *servers);
extern int dns_init_tuned(dns *d, char const *servers, unsigned int timeout_ms, unsigned int tries);

/* dns_free: cancels what is pending (outcome DNS_TEMP) and frees the channel. */
extern void dns_free(dns *d);

extern void dns_result_init(dns_result *r);
extern void dns_result_free(dns_result *r);

/* dns_query: starts a lookup of `name` (no trailing dot needed) for `type`.
 * r must stay where it is until it has an outcome (or dns_cancel/dns_free).
 * The outcome may be immediate (a bad name: DNS_TEMP with ARES_EBADNAME). */
extern void dns_query(dns *d, dns_result *r, char const *name, int type);

/* dns_query_ptr: the PTR lookup for an address (in-addr.arpa / ip6.arpa). */
extern void dns_query_ptr(dns *d, dns_result *r, ip46 const *ip);

/* Your own loop. dns_fds writes at most max entries (DNS_FDS_MAX suffices)
 * and returns how many; it lowers *deadline to c-ares' next timeout when
 * that is sooner (call after tain_now_g or with STAMP current). */
#define DNS_FDS_MAX 16
extern unsigned int dns_fds(dns *d, iopause_fd *x, unsigned int max, tain *deadline);
extern void dns_process(dns *d, iopause_fd const *x, unsigned int n);

/* dns_cancel: every pending query gets DNS_TEMP (ares_status ARES_ETIMEOUT). */
extern void dns_cancel(dns *d);

/* dns_run: the synchronous wrapper. Runs until every query has an outcome or
 * *deadline passes (then the rest are cancelled as above). Uses and updates
 * STAMP. Returns 1 when all answered in time, 0 when the deadline cut some
 * short, -1 on an iopause error (errno set; the rest cancelled). */
extern int dns_run(dns *d, tain const *deadline);

/* Reading a result. */
#define dns_rr_count(r) genalloc_len(dns_rr, &(r)->rrs)
#define dns_rr_at(r, i) (genalloc_s(dns_rr, &(r)->rrs) + (i))
#define dns_rr_ptr(r, i) ((r)->data.s + dns_rr_at(r, i)->off)
/* The i-th A or AAAA record as an ip46. */
extern void dns_rr_ip46(dns_result const *r, size_t i, ip46 *ip);
/* A short text for the outcome ("ok", "not found", "timed out", c-ares' text). */
extern char const *dns_strerror(dns_result const *r);

/* Names (pure functions, unit-tested). dns_name_rev appends the RFC 5782
 * reversed form of ip followed by "." and base (base 0 or "": no suffix and
 * no dot): "2.0.0.127.bl.test", or 32 nibbles "1.0.0...8.b.d.0.1.0.0.2.bl.test"
 * for IPv6. dns_name_ptr appends the in-addr.arpa / ip6.arpa name. Both
 * leave a NUL after the name, not counted in sa->len, and return 1, or 0 on
 * ENOMEM (sa as it was). */
extern int dns_name_rev(stralloc *sa, ip46 const *ip, char const *base);
extern int dns_name_ptr(stralloc *sa, ip46 const *ip);

#endif
