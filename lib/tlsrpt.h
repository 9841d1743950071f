/* tlsrpt.h: SMTP TLS reporting (RFC 8460) texts: the record tern-remote
 * appends for each delivery session to HOME/tlsrpt/YYYY-MM-DD, the
 * _smtp._tls TXT record, and JSON strings. Pure functions: no I/O,
 * unit-tested (tests/unit/tlsrpt.c).
 *
 * The record is one line of space-separated fields, none empty ("-" for
 * "none"):
 *   t1 TIME DOMAIN TYPE RESULT MX RIP LIP POLICY
 *   TIME    seconds since the epoch
 *   DOMAIN  the recipient domain, lowercase [a-z0-9._-]
 *   TYPE    sts | no-policy-found | tlsroutes (the policy that applied)
 *   RESULT  success, or an RFC 8460 4.3 result type
 *   MX      the MX host name (or "-"), RIP its address, LIP ours
 *   POLICY  for sts: MODE,MAX_AGE[,MX-PATTERN...]; else "-"
 *
 * SECURITY: the record file is written by the remote-delivery user and read
 * by tern-tlsrpt running as the same user, but every field still passes
 * through the parser's checks (a charset per field, a fixed count) before
 * it goes into a report; the TXT record comes from DNS and is untrusted. */
#ifndef TERN_TLSRPT_H
#define TERN_TLSRPT_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define TLSRPT_LINE_MAX 12288     /* a record: 32 mx patterns of 255 bytes fit */
#define TLSRPT_RUA_MAX 8          /* mailto addresses taken from one TXT record */

typedef struct tlsrpt_rec_s tlsrpt_rec;
struct tlsrpt_rec_s
{
  uint64_t when;
  char const *domain, *type, *result, *mx, *rip, *lip, *policy;
};

/* Appends the record's line (with its '\n') to sa. Characters outside a
 * field's set become '?' (a name from DNS may hold anything); an empty or
 * missing field becomes "-". 1 ok, 0 out of memory or a field (the domain,
 * type, result) that cannot be written. */
extern int tlsrpt_rec_format(stralloc *sa, tlsrpt_rec const *r);

/* Parses one line s[0..n) (without its '\n'; s[n] must be writable: the
 * '\n' or a spare byte), cutting it in place: the fields of r point into
 * s. 1 ok, 0 not a valid record. */
extern int tlsrpt_rec_parse(char *s, size_t n, tlsrpt_rec *r);

/* Is t a result type tern writes (RFC 8460 4.3, and "success")? */
extern int tlsrpt_result_ok(char const *t);
/* Is it a failure of the policy itself (sts-*), not of a session? */
extern int tlsrpt_result_policy(char const *t);

/* One TXT record (its strings joined): 1 a valid "v=TLSRPTv1" record, its
 * mailto addresses (percent-decoded, at most TLSRPT_RUA_MAX) appended to
 * rua NUL-terminated one after the other, *https set to the number of
 * https URIs; 0 not a TLSRPT record; -1 starts like one but is invalid
 * (or out of memory). */
extern int tlsrpt_txt_parse(char const *s, size_t n, stralloc *rua, unsigned int *https);

/* Appends s as a JSON string (quoted; '"', '\\', controls and DEL escaped;
 * bytes above 127 kept: JSON is UTF-8, and the report travels in base64).
 * 1 ok, 0 out of memory. */
extern int tlsrpt_json_str(stralloc *sa, char const *s);

#endif
