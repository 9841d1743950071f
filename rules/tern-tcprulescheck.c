/* tern-tcprulescheck: show which rule and environment a client address (and host) gets. */
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/bytestr.h>
#include <skalibs/cdb.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <s6/accessrules.h>
#include "rules_compile.h"
#include "rules_lookup.h"
#include "rules_addr.h"

#define USAGE "tern-tcprulescheck rules.cdb address [ host ]"

char const *PROG = "tern-tcprulescheck";

static char const *gethost(void *ctx)
{
  return ctx;
}

static void put(char const *s, size_t len)
{
  if (buffer_put(buffer_1, s, len) < 0) strerr_diefusys(111, "write to stdout");
}

static void puts0(char const *s)
{
  put(s, strlen(s));
}

/* The source line recorded for key, as "line N: TEXT". */
static void print_rule(cdb const *c, char const *key)
{
  stralloc sk = STRALLOC_ZERO;
  cdb_data d;
  if (!stralloc_cats(&sk, RULES_META_SRC) || !stralloc_cats(&sk, key)) strerr_diefu(111, "allocate");
  puts0("rule ");
  if (cdb_find(c, &d, sk.s, sk.len) == 1)
  {
    size_t colon = byte_chr(d.s, d.len, ':');
    puts0("on line ");
    put(d.s, colon);
    puts0(": ");
    if (colon < d.len) put(d.s + colon + 1, d.len - colon - 1);
    puts0(" (key ");
    puts0(key);
    puts0("):\n");
  }
  else { puts0(key); puts0(":\n"); }
  stralloc_free(&sk);
}

static void print_env(stralloc const *env)
{
  size_t i = 0;
  while (i < env->len)
  {
    char const *e = env->s + i;
    puts0(strchr(e, '=') ? "set environment variable " : "unset environment variable ");
    puts0(e);
    puts0("\n");
    i += strlen(e) + 1;
  }
}

int main(int argc, char const *const *argv)
{
  cdb c = CDB_ZERO;
  ip46 ip;
  char key[RULES_KEY_MAX];
  char host[RULES_HOST_MAX + 2];
  s6_accessrules_params_t params = S6_ACCESSRULES_PARAMS_ZERO;
  s6_accessrules_result_t r;
  if (argc < 3 || argc > 4) strerr_dieusage(100, USAGE);
  if (!rules_addr_scan(argv[2], &ip)) strerr_dief(100, "not an IP address: ", argv[2]);
  if (argc == 4 && !rules_host_normalize(host, argv[3])) strerr_dief(100, "not a host name: ", argv[3]);
  if (!cdb_init(&c, argv[1])) strerr_diefusys(111, "open ", argv[1]);
  r = rules_lookup(&c, &ip, argc == 4 ? &gethost : 0, host, &params, key);
  switch (r)
  {
    case S6_ACCESSRULES_ERROR: strerr_diefusys(111, "read ", argv[1]);
    case S6_ACCESSRULES_NOTFOUND: puts0("no rule matches: tern-tcpserver's default\nallow connection\n"); break;
    case S6_ACCESSRULES_DENY: print_rule(&c, key); puts0("deny connection\n"); break;
    default: print_rule(&c, key); print_env(&params.env); puts0("allow connection\n"); break;
  }
  if (!buffer_flush(buffer_1)) strerr_diefusys(111, "write to stdout");
  return 0;
}
