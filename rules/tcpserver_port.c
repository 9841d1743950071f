/* tcpserver_port.c: the port argument of tern-tcpserver, a number or a
 * service name (tcpserver's `0 smtp`), without getservbyname: a static
 * binary has no NSS, so /etc/services is read here, then a built-in
 * table of the mail ports for systems without that file. */
#include <errno.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "tcpserver.h"

#define SERVICES_MAX (1 << 20)   /* /etc/services is about 13 KB */

static struct { char const *name; uint16_t port; } const builtin[] =
{
  { "smtp", 25 }, { "submission", 587 }, { "submissions", 465 }, { "smtps", 465 },
  { "pop3", 110 }, { "pop3s", 995 }, { "imap", 143 }, { "imap2", 143 }, { "imaps", 993 },
  { "http", 80 }, { "https", 443 }, { 0, 0 }
};

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* The next blank-separated word of line[*i..n): its start and length. */
static size_t word(char const *line, size_t n, size_t *i, char const **w)
{
  size_t k;
  while (*i < n && is_blank(line[*i])) ++*i;
  *w = line + *i;
  for (k = *i; k < n && !is_blank(line[k]); k++) ;
  k -= *i;
  *i += k;
  return k;
}

/* One line "name port/proto [alias...] [# comment]": 1 when name or an
 * alias is s with proto tcp (the port in *port). */
int tcpserver_port_line(char const *line, size_t n, char const *s, uint16_t *port)
{
  char const *hash = memchr(line, '#', n), *w, *pp;
  size_t i = 0, len, slen = strlen(s), k;
  uint16_t p;
  if (hash) n = (size_t)(hash - line);
  len = word(line, n, &i, &w);
  if (!len) return 0;
  {
    char const *name = w;
    size_t namelen = len;
    len = word(line, n, &i, &pp);
    k = uint16_scan(pp, &p);
    if (!k || k >= len || len - k != 4 || memcmp(pp + k, "/tcp", 4)) return 0;
    if (namelen == slen && !memcmp(name, s, slen)) { *port = p; return 1; }
  }
  while ((len = word(line, n, &i, &w)))
    if (len == slen && !memcmp(w, s, slen)) { *port = p; return 1; }
  return 0;
}

int tcpserver_port(char const *s, char const *services, uint16_t *port)
{
  size_t n = strlen(s), i;
  stralloc sa = STRALLOC_ZERO;
  if (!n || n > 63) { errno = EINVAL; return 0; }
  if (n == strspn(s, "0123456789"))
  {
    unsigned int u;
    if (n > 5 || uint_scan(s, &u) != n || u > 65535) { errno = EINVAL; return 0; }
    *port = (uint16_t)u;
    return 1;
  }
  /* a name: letters, digits, . _ + - (what a services file holds) */
  if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") != n) { errno = EINVAL; return 0; }
  if (openreadfileclose(services, &sa, SERVICES_MAX))
  {
    size_t start = 0;
    for (i = 0; i <= sa.len; i++)
    {
      if (i < sa.len && sa.s[i] != '\n') continue;
      if (tcpserver_port_line(sa.s + start, i - start, s, port)) { stralloc_free(&sa); return 1; }
      start = i + 1;
    }
    stralloc_free(&sa);
  }
  else if (errno != ENOENT) { stralloc_free(&sa); return -1; }
  for (i = 0; builtin[i].name; i++)
    if (!strcmp(builtin[i].name, s)) { *port = builtin[i].port; return 1; }
  errno = ENOENT;
  return 0;
}
