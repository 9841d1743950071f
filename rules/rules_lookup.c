/* rules_lookup.c: tcpserver's rule precedence over the libs6 accessrules cdb layout. */
#include <errno.h>
#include <string.h>
#include <skalibs/cdb.h>
#include <skalibs/ip46.h>
#include <s6/accessrules.h>
#include "rules_compile.h"
#include "rules_lookup.h"

typedef struct walk_s walk;
struct walk_s
{
  cdb const *c;
  s6_accessrules_params_t *params;
  char *key;
};

static s6_accessrules_result_t try(walk *w, char const *key, size_t len)
{
  s6_accessrules_result_t r = s6_accessrules_backend_cdb(key, len, w->c, w->params);
  if (r != S6_ACCESSRULES_NOTFOUND)
  {
    memcpy(w->key, key, len);
    w->key[len] = 0;
  }
  return r;
}

/* The client's network address at prefix length plen, as a key. */
static s6_accessrules_result_t try_ip(walk *w, ip46 const *ip, unsigned int plen)
{
  char net[16] = { 0 };
  char key[RULES_KEY_MAX];
  unsigned int nbytes = ip46_is6(ip) ? 16 : 4;
  memcpy(net, ip->ip, plen / 8);
  if (plen % 8 && plen / 8 < nbytes) net[plen / 8] = (char)(ip->ip[plen / 8] & (0xff00u >> (plen % 8)));
  return try(w, key, rules_key_ip(key, ip46_is6(ip), net, plen));
}

/* "reversedns/" + prefix + name */
static s6_accessrules_result_t try_host(walk *w, char const *prefix, char const *name)
{
  char key[RULES_KEY_MAX];
  size_t p = strlen(prefix), n = strlen(name);
  if (11 + p + n > sizeof key) return S6_ACCESSRULES_NOTFOUND;
  memcpy(key, "reversedns/", 11);
  memcpy(key + 11, prefix, p);
  memcpy(key + 11 + p, name, n);
  return try(w, key, 11 + p + n);
}

static s6_accessrules_result_t try_suffixes(walk *w, char const *host)
{
  s6_accessrules_result_t r;
  char const *dot = host;
  while ((dot = strchr(dot, '.')))
  {
    r = try_host(w, ".", ++dot);
    if (r != S6_ACCESSRULES_NOTFOUND) return r;
  }
  return try_host(w, "", "@");
}

int rules_has_hostrules(cdb const *c)
{
  cdb_data d;
  return cdb_find(c, &d, RULES_META_HOSTRULES, sizeof RULES_META_HOSTRULES - 1);
}

s6_accessrules_result_t rules_lookup(cdb const *c, ip46 const *ip, rules_gethost_func *gethost, void *ctx, s6_accessrules_params_t *params, char *key)
{
  walk w = { .c = c, .params = params, .key = key };
  unsigned int plen = ip46_is6(ip) ? 128 : 32;
  char const *host = 0;
  s6_accessrules_result_t r;
  key[0] = 0;
  r = try_ip(&w, ip, plen);
  if (r != S6_ACCESSRULES_NOTFOUND) return r;
  if (gethost)
  {
    int h = rules_has_hostrules(c);
    if (h < 0) return S6_ACCESSRULES_ERROR;
    if (h) host = (*gethost)(ctx);
  }
  if (host && (r = try_host(&w, "", host)) != S6_ACCESSRULES_NOTFOUND) return r;
  while (--plen)
    if ((r = try_ip(&w, ip, plen)) != S6_ACCESSRULES_NOTFOUND) return r;
  if (host && (r = try_suffixes(&w, host)) != S6_ACCESSRULES_NOTFOUND) return r;
  return try_ip(&w, ip, 0);
}
