/* rules_parse.h: the tcprules text format, one line at a time, and the cdb keys it compiles to. */
#ifndef TERN_RULES_PARSE_H
#define TERN_RULES_PARSE_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* What a rule's address part names. */
enum rules_kind_e
{
  RULES_IP4 = 1,     /* 1.2.3.4, 1.2.3., 1.2.3.4-9, 192.0.2.0/24 */
  RULES_IP6,         /* 2001:db8::1, 2001:db8::/32, [::1] */
  RULES_HOST,        /* =host.example: that name only */
  RULES_SUFFIX,      /* =.example: every name ending in .example */
  RULES_ANYHOST,     /* =: any client whose name is known */
  RULES_DEFAULT      /* the empty address: everyone else */
};

/* Limits. A line longer than RULES_LINE_MAX is refused; the environment of
 * one rule is limited by the libs6 accessrules cdb format. */
#define RULES_LINE_MAX 8192
#define RULES_ENV_MAX 4096
#define RULES_HOST_MAX 253
/* cdb key buffer: "reversedns/." + a name, or "ip6/" + address + "_128" */
#define RULES_KEY_MAX 270

typedef struct rules_rule_s rules_rule;
struct rules_rule_s
{
  unsigned int kind;
  unsigned int plen;      /* prefix length in bits (IP kinds) */
  unsigned int rpos;      /* IPv4 octet holding a range, 4 when none */
  unsigned int rlo, rhi;  /* the range, inclusive */
  char ip[16];            /* network address; IPv4 uses the first 4 bytes */
  int allow;
  stralloc host;          /* lowercased name, no '=', no leading '.'; NUL-terminated */
  stralloc env;           /* "VAR=value\0" sets, "VAR\0" unsets */
};
#define RULES_RULE_ZERO { .kind = 0, .plen = 0, .rpos = 4, .rlo = 0, .rhi = 0, .ip = { 0 }, .allow = 0, .host = STRALLOC_ZERO, .env = STRALLOC_ZERO }

/* Parses one line (without its newline). Returns 1 when r now holds a rule,
 * 0 for a blank or comment line, -1 for a bad line with *why set to a
 * static sentence saying what is wrong. r may be reused across calls. */
extern int rules_parse_line(rules_rule *r, char const *s, size_t len, char const **why);
extern void rules_rule_free(rules_rule *r);

/* 1 when r allows and sets RELAYCLIENT for a catch-all or very wide match:
 * the default, "=", a top-level-domain suffix, or a prefix shorter than /8. */
extern int rules_is_wide_relay(rules_rule const *r);

/* The cdb key for an IP network (ip masked to plen already): libs6's
 * "ip4/1.2.3.0_24", "ip6/2001:db8::_32". key holds RULES_KEY_MAX bytes.
 * Returns the key length. */
extern size_t rules_key_ip(char *key, int is6, char const *ip, unsigned int plen);

/* Calls emit for every cdb key the rule compiles to (ranges expand to one
 * key per value). Stops and returns 0 when emit does. */
typedef int rules_emit_func(char const *key, size_t klen, void *ctx);
extern int rules_keys(rules_rule const *r, rules_emit_func *emit, void *ctx);

/* Appends the cdb value (libs6 accessrules format: "D", or "A", 2-byte
 * big-endian env length, env, 2-byte exec length = 0). */
extern int rules_value(rules_rule const *r, stralloc *sa);

#endif
