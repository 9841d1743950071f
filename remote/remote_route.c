/* remote_route.c: smtproutes / tlsroutes / smtpauth lookups, qmail-style. */
#include <string.h>
#include <strings.h>
#include <skalibs/types.h>
#include <skalibs/ip46.h>
#include "remote_route.h"

static int scan_port(char const *s, uint16_t *port)
{
  size_t n = uint160_scan(s, port);
  return n && !s[n] && *port;
}

int route_relay(char const *value, relay *r)
{
  char const *end;
  size_t hl;
  memset(r, 0, sizeof *r);
  if (!*value) return 1;
  if (*value == '[')
  {
    end = strchr(value, ']');
    if (!end) return 0;
    hl = (size_t)(end - value - 1);
    if (!hl || hl >= sizeof r->host) return 0;
    memcpy(r->host, value + 1, hl);
    if (ip46_scan(r->host, &r->ip) != hl) return 0;
    r->literal = 1;
    end++;
  }
  else
  {
    end = strchr(value, ':');
    if (!end) end = value + strlen(value);
    hl = (size_t)(end - value);
    if (!hl || hl >= sizeof r->host) return 0;
    memcpy(r->host, value, hl);
    if (ip46_scan(r->host, &r->ip) == hl) r->literal = 1;
  }
  if (!*end) return 1;
  if (*end != ':') return 0;
  return scan_port(end + 1, &r->port);
}

int route_tlspolicy(char const *value, int *policy)
{
  static char const *const names[] = { "none", "may", "encrypt", "verify" };
  int i;
  for (i = 0; i < 4; i++)
    if (!strcasecmp(value, names[i])) { *policy = i; return 1; }
  return 0;
}

int route_auth(char const *value, stralloc *user, stralloc *pass)
{
  char const *colon = strchr(value, ':');
  if (!colon || colon == value) return 0;
  user->len = pass->len = 0;
  return stralloc_catb(user, value, (size_t)(colon - value)) && stralloc_0(user)
      && stralloc_cats(pass, colon + 1) && stralloc_0(pass);
}
