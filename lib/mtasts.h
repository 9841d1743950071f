/* mtasts.h: MTA-STS (RFC 8461) texts: the _mta-sts TXT record, the policy
 * file, the HTTP response that carries it, MX pattern matching, and the
 * on-disk cache record. Pure functions: no I/O, unit-tested and fuzzed.
 *
 * SECURITY: every input here comes from the network (DNS, an HTTPS server)
 * or from a cache file another process wrote; every parser is bounded,
 * rejects what it does not understand instead of guessing, and never reads
 * past the length it is given (no NUL terminator is assumed). */
#ifndef TERN_MTASTS_H
#define TERN_MTASTS_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define MTASTS_ID_MAX 32             /* RFC 8461 3.1: 1*32(ALPHA / DIGIT) */
#define MTASTS_MX_MAX 32             /* mx lines kept; more make the policy invalid */
#define MTASTS_POLICY_MAX 65536      /* bytes of policy body accepted by default */
#define MTASTS_MAXAGE_MAX 31557600   /* RFC 8461 3.2: at most about one year */

enum mtasts_mode { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

typedef struct mtasts_policy_s mtasts_policy;
struct mtasts_policy_s
{
  int mode;                          /* enum mtasts_mode */
  uint32_t max_age;                  /* seconds, capped at MTASTS_MAXAGE_MAX */
  unsigned int nmx;
  char mx[MTASTS_MX_MAX][256];       /* lowercase patterns, "*." only leftmost */
};

/* One TXT record (its strings joined). 1: a valid STS record, id copied
 * into id (NUL-terminated, MTASTS_ID_MAX + 1 bytes); 0: not an STS record
 * (does not start with "v=STSv1"); -1: starts like one but is invalid. */
extern int mtasts_txt_parse(char const *s, size_t n, char *id);

/* The policy file. 1 ok (p filled), 0 invalid (why: a static text). */
extern int mtasts_policy_parse(char const *s, size_t n, mtasts_policy *p, char const **why);

/* Does host (a name, maybe with a final dot, any case) match pattern
 * (lowercase, from a parsed policy)? "*.example.com" stands for exactly one
 * leftmost label: it matches "mx.example.com", neither "example.com" nor
 * "a.b.example.com". 1 yes, 0 no. */
extern int mtasts_mx_match(char const *pattern, char const *host);
/* Any of the policy's patterns. */
extern int mtasts_policy_match(mtasts_policy const *p, char const *host);

/* An HTTP/1.x response in s[0..n): status 200, Content-Type text/plain,
 * no Transfer-Encoding; the body (bounded by Content-Length when given,
 * which must then be complete) at s[*off .. *off + *len). 1 ok, 0 refused
 * (why: a static text). */
extern int mtasts_http_body(char const *s, size_t n, size_t *off, size_t *len, char const **why);

/* The cache record: "tern-mtasts 1\nid ID\nfetched SECONDS\n\n" and the
 * policy text as it was served. format appends it to sa; parse checks the
 * header and the policy, filling id, *fetched and p. 1 ok, 0 bad or foreign. */
extern int mtasts_cache_format(stralloc *sa, char const *id, uint64_t fetched, char const *body, size_t len);
extern int mtasts_cache_parse(char const *s, size_t n, char *id, uint64_t *fetched, mtasts_policy *p);

/* A domain name that can name a file (the cache, TLS reports): lowercase
 * [a-z0-9._-], 1 to 253 bytes, no leading dot, no "..". 1 yes, 0 no. */
extern int mtasts_name_ok(char const *d);

/* "enforce", "testing", "none". */
extern char const *mtasts_mode_name(int mode);

#endif
