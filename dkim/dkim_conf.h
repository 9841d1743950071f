/* dkim_conf.h: control/dkimdomains, which author domains tern-dkimsign
 * signs for and with which keys; and the rule for domain and selector
 * names that every dkim program applies.
 *
 * One line per pattern:  PATTERN:SELECTOR[,SELECTOR...][:DOMAIN]
 *   example.org:s2026                   mail From example.org, d=example.org s=s2026
 *   example.org:r2026,e2026             two signatures (say rsa and ed25519)
 *   .example.org:s2026                  From any subdomain, d=example.org
 *   lists.example.org:s2026:example.org one subdomain with the parent's key
 * An exact pattern wins over a wildcard, a longer wildcard over a shorter;
 * a subdomain matches nothing unless a line says so. DOMAIN defaults to the
 * pattern (without its dot). The key of d=D s=S is $TERN_HOME/dkim/D/S.key. */
#ifndef TERN_DKIM_CONF_H
#define TERN_DKIM_CONF_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Signatures per message at most (selectors on one line). */
#define DKIM_MAXSEL 4

/* Is s[0..n) a name we accept as a domain or a selector: 1 to 253 bytes,
 * labels of 1 to 63 lowercase letters, digits, '-' and '_' (DNS allows it,
 * and some selectors have it), separated by dots? Nothing else ever
 * reaches a path, an argument or a header. */
extern int dkim_name_ok(char const *s, size_t n);
extern void dkim_name_lower(char *s);

typedef struct dkim_rule_s dkim_rule;
struct dkim_rule_s
{
  stralloc sa;                   /* the strings below point into it */
  char const *domain;            /* d= */
  char const *sel[DKIM_MAXSEL];  /* one signature each */
  unsigned int nsel;
};
#define DKIM_RULE_ZERO { .sa = STRALLOC_ZERO, .domain = 0, .nsel = 0 }

/* Finds the rule for the author domain dom (lowercase) among the n lines
 * of control/dkimdomains in lines (control_readlines's form: each line
 * NUL-terminated). Every line is checked, whatever dom is, so that a typo
 * is found at once. 1 found (r filled), 0 no rule for dom, -1 a malformed
 * line (*bad points to it; errno EINVAL) or out of memory (ENOMEM). */
extern int dkim_conf_find(dkim_rule *r, char const *lines, int n, char const *dom, char const **bad);

extern void dkim_rule_free(dkim_rule *r);

#endif
