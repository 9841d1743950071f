/* dsn.c: the DSN parameters of the envelope (dsn.h). */
#include <string.h>
#include <strings.h>
#include "dsn.h"

static int hexup(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int dsn_xtext_ok(char const *s, size_t n)
{
  size_t i;
  if (!n) return 0;
  for (i = 0; i < n; i++)
  {
    unsigned char c = (unsigned char)s[i];
    if (c == '+')
    {
      if (i + 2 >= n || hexup(s[i+1]) < 0 || hexup(s[i+2]) < 0) return 0;
      i += 2;
    }
    else if (c < 33 || c > 126 || c == '=') return 0;
  }
  return 1;
}

int dsn_record_ok(char const *s, size_t n)
{
  size_t i;
  if (!n || n > DSN_PARAMS_MAX || s[0] == ' ' || s[n-1] == ' ') return 0;
  for (i = 0; i < n; i++)
  {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' ? s[i+1] == ' ' : (c < 33 || c > 126)) return 0;
  }
  return 1;
}

char const *dsn_param(char const *params, char const *name, size_t *len)
{
  size_t k = strlen(name);
  char const *p = params;
  if (!p) return 0;
  while (*p)
  {
    size_t w = strcspn(p, " ");
    if (w > k && p[k] == '=' && !strncasecmp(p, name, k))
    {
      *len = w - k - 1;
      return p + k + 1;
    }
    p += w;
    while (*p == ' ') p++;
  }
  return 0;
}

unsigned int dsn_notify(char const *rparams)
{
  size_t n, i = 0;
  unsigned int f = 0;
  char const *v = dsn_param(rparams, "NOTIFY", &n);
  if (!v) return DSN_NOTIFY_DEFAULT;
  while (i < n)
  {
    size_t w = i;
    while (w < n && v[w] != ',') w++;
    if (w - i == 7 && !strncasecmp(v + i, "SUCCESS", 7)) f |= DSN_NOTIFY_SUCCESS;
    else if (w - i == 5 && !strncasecmp(v + i, "DELAY", 5)) f |= DSN_NOTIFY_DELAY;
    else if (w - i == 7 && !strncasecmp(v + i, "FAILURE", 7)) f |= DSN_NOTIFY_FAILURE;
    else if (w - i == 5 && !strncasecmp(v + i, "NEVER", 5)) f |= DSN_NOTIFY_NEVER;
    i = w + 1;
  }
  /* NEVER with anything else cannot come from tern-smtpd; read it as NEVER */
  return f & DSN_NOTIFY_NEVER ? DSN_NOTIFY_NEVER : f ? f : DSN_NOTIFY_DEFAULT;
}

static int ret_is(char const *mparams, char const *what)
{
  size_t n;
  char const *v = dsn_param(mparams, "RET", &n);
  return v && n == 4 && !strncasecmp(v, what, 4);
}

int dsn_ret_hdrs(char const *mparams) { return ret_is(mparams, "HDRS"); }
int dsn_ret_full(char const *mparams) { return ret_is(mparams, "FULL"); }

int dsn_xtext_cat(stralloc *sa, char const *x, size_t n, size_t max)
{
  size_t i, out = 0;
  for (i = 0; i < n && out < max; i++, out++)
  {
    char c = x[i];
    if (c == '+' && i + 2 < n && hexup(x[i+1]) >= 0 && hexup(x[i+2]) >= 0)
    {
      c = (char)(hexup(x[i+1]) * 16 + hexup(x[i+2]));
      i += 2;
    }
    if ((unsigned char)c < 32 || (unsigned char)c > 126) c = '?';
    if (!stralloc_catb(sa, &c, 1)) return 0;
  }
  return 1;
}
