/* route.c: qmail-style route table lookups (smtproutes, tlsroutes,
 * smtpauth): tern-remote routes by them, tern-send groups deliveries by
 * the smtproutes relay a domain goes to. */
#include <string.h>
#include <strings.h>
#include "route.h"

char const *route_get(stralloc const *lines, char const *key, size_t keylen)
{
  size_t i = 0;
  while (i < lines->len)
  {
    char const *l = lines->s + i;
    size_t n = strlen(l);
    char const *colon = memchr(l, ':', n);
    if (colon && (size_t)(colon - l) == keylen && !strncasecmp(l, key, keylen))
      return colon + 1;
    i += n + 1;
  }
  return 0;
}

char const *route_find(stralloc const *lines, char const *domain)
{
  size_t len = strlen(domain), i;
  for (i = 0; i <= len; i++)
  {
    if (i == 0 || i == len || domain[i] == '.')
    {
      char const *v = route_get(lines, domain + i, len - i);
      if (v) return v;
    }
  }
  return 0;
}
