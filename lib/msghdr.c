/* msghdr.c: where a message's header section ends, and what the loop
 * checks read in it (msghdr.h). */
#include <string.h>
#include <strings.h>
#include "msghdr.h"

static int blank(char c) { return c == ' ' || c == '\t'; }

size_t msghdr_field(char const *s, size_t n, size_t *value)
{
  size_t i, name;
  for (i = 0; i < n; i++)
  {
    unsigned char c = (unsigned char)s[i];
    if (c == ':' || c <= 32 || c >= 127) break;
  }
  name = i;
  if (!name) return 0;
  while (i < n && blank(s[i])) i++;
  if (i >= n || s[i] != ':') return 0;
  *value = i + 1;
  return name;
}

void msghdr_init(msghdr *h)
{
  h->over = 0;
  h->fields = 0;
  h->received = 0;
  h->dt = stralloc_zero;
  h->len = 0;
}

void msghdr_free(msghdr *h)
{
  stralloc_free(&h->dt);
}

/* Keeps the address of a Delivered-To line, lowercased, when there is room. */
static int keep_dt(msghdr *h, size_t v, size_t n)
{
  char const *a = h->line + v;
  size_t len = n - v, i;
  while (len && blank(*a)) { a++; len--; }
  while (len && blank(a[len - 1])) len--;
  if (!len || h->dt.len + len + 1 > MSGHDR_DT_MAX) return 1;
  i = h->dt.len;
  if (!stralloc_catb(&h->dt, a, len) || !stralloc_0(&h->dt)) return 0;
  for (; i < h->dt.len; i++)
    if (h->dt.s[i] >= 'A' && h->dt.s[i] <= 'Z') h->dt.s[i] += 'a' - 'A';
  return 1;
}

/* The current line is whole (h->len bytes, the first MSGHDR_LINE kept). */
static int line_done(msghdr *h)
{
  size_t n = h->len < MSGHDR_LINE ? h->len : MSGHDR_LINE, v, name;
  if (!h->len) { h->over = 1; return 1; }
  if (blank(h->line[0])) { if (!h->fields) h->over = 1; return 1; }
  name = msghdr_field(h->line, n, &v);
  if (!name) { h->over = 1; return 1; }
  h->fields = 1;
  if (name == 8 && !strncasecmp(h->line, "received", 8)) h->received++;
  else if (name == 12 && !strncasecmp(h->line, "delivered-to", 12) && h->len <= MSGHDR_LINE)
    return keep_dt(h, v, n);
  return 1;
}

int msghdr_put(msghdr *h, char const *s, size_t n)
{
  while (n && !h->over)
  {
    char const *nl = memchr(s, '\n', n);
    size_t k = nl ? (size_t)(nl - s) : n;
    if (h->len < MSGHDR_LINE)
      memcpy(h->line + h->len, s, k < MSGHDR_LINE - h->len ? k : MSGHDR_LINE - h->len);
    h->len += k;
    if (!nl) return 1;
    if (!line_done(h)) return 0;
    h->len = 0;
    s += k + 1;
    n -= k + 1;
  }
  return 1;
}

int msghdr_end(msghdr *h)
{
  int r = 1;
  if (!h->over && h->len) r = line_done(h);
  h->over = 1;
  h->len = 0;
  return r;
}

int msghdr_delivered_to(msghdr const *h, char const *addr)
{
  size_t i = 0;
  while (i < h->dt.len)
  {
    char const *a = h->dt.s + i;
    if (!strcasecmp(a, addr)) return 1;
    i += strlen(a) + 1;
  }
  return 0;
}
