/* inject_msg.c: header scan and added headers for tern-inject. */
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/random.h>
#include <skalibs/types.h>
#include "msghdr.h"
#include "inject.h"

void inject_lf(stralloc *sa)
{
  size_t i, j = 0;
  for (i = 0; i < sa->len; i++)
  {
    if (sa->s[i] == '\r' && i + 1 < sa->len && sa->s[i+1] == '\n') continue;
    sa->s[j++] = sa->s[i];
  }
  sa->len = j;
  if (sa->len && sa->s[sa->len - 1] != '\n') stralloc_catb(sa, "\n", 1);
}

static int is(char const *s, size_t n, char const *name)
{
  return strlen(name) == n && !strncasecmp(s, name, n);
}

int inject_scan(injmsg *m, char const *msg, size_t len, int want_rcpts)
{
  size_t i = 0;
  int skip = 0, addr = 0;
  m->has_date = m->has_msgid = m->has_from = 0;
  m->header.len = 0;
  while (i < len)
  {
    char const *s = msg + i;
    char const *nl = memchr(s, '\n', len - i);
    size_t n = nl ? (size_t)(nl - s) : len - i, v = 0;
    if (!n) { i++; break; }              /* the empty line: the body follows */
    if (*s != ' ' && *s != '\t')
    {
      size_t fn = msghdr_field(s, n, &v);
      if (!fn) break;                    /* not a header: the body starts here */
      skip = is(s, fn, "bcc");
      addr = want_rcpts && (skip || is(s, fn, "to") || is(s, fn, "cc"));
      if (is(s, fn, "date")) m->has_date = 1;
      if (is(s, fn, "message-id")) m->has_msgid = 1;
      if (is(s, fn, "from")) m->has_from = 1;
    }
    else if (!i) break;                  /* a body that starts with a blank */
    if (addr && inject_addrlist(&m->rcpts, s + v, n - v) < 0) return -1;
    if (!skip && (!stralloc_catb(&m->header, s, n) || !stralloc_catb(&m->header, "\n", 1))) return -1;
    i += n + 1;
  }
  m->body = i > len ? len : i;
  return 1;
}

static int cat_clean(stralloc *sa, char const *s)
{
  size_t start = sa->len;
  if (!stralloc_cats(sa, s)) return 0;
  for (; start < sa->len; start++)
    if ((unsigned char)sa->s[start] < 32 || sa->s[start] == 127) sa->s[start] = '?';
  return 1;
}

int inject_addheaders(stralloc *out, injmsg const *m, char const *me,
                      char const *from, char const *fullname, uint64_t now)
{
  char fmt[UINT64_FMT];
  if (!m->has_date)
  {
    char buf[64];
    time_t t = (time_t)now;
    struct tm tm;
    size_t n = gmtime_r(&t, &tm) ? strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm) : 0;
    if (!n || !stralloc_cats(out, "Date: ") || !stralloc_catb(out, buf, n) || !stralloc_catb(out, "\n", 1)) return 0;
  }
  if (!m->has_msgid)
  {
    char r[8];
    size_t i;
    static char const hex[] = "0123456789abcdef";
    random_buf(r, sizeof r);
    if (!stralloc_cats(out, "Message-ID: <") || !stralloc_catb(out, fmt, uint64_fmt(fmt, now))
     || !stralloc_catb(out, ".", 1) || !stralloc_catb(out, fmt, uint64_fmt(fmt, (uint64_t)getpid()))
     || !stralloc_catb(out, ".", 1)) return 0;
    for (i = 0; i < sizeof r; i++)
      if (!stralloc_catb(out, hex + ((unsigned char)r[i] >> 4), 1) || !stralloc_catb(out, hex + (r[i] & 15), 1)) return 0;
    if (!stralloc_catb(out, "@", 1) || !cat_clean(out, me) || !stralloc_cats(out, ">\n")) return 0;
  }
  if (!m->has_from)
  {
    if (!stralloc_cats(out, "From: ")) return 0;
    if (fullname && *fullname)
    {
      /* the name as a quoted string: quotes and backslashes escaped */
      size_t i;
      if (!stralloc_catb(out, "\"", 1)) return 0;
      for (i = 0; fullname[i]; i++)
      {
        char c = ((unsigned char)fullname[i] < 32 || fullname[i] == 127) ? '?' : fullname[i];
        if ((c == '"' || c == '\\') && !stralloc_catb(out, "\\", 1)) return 0;
        if (!stralloc_catb(out, &c, 1)) return 0;
      }
      if (!stralloc_cats(out, "\" <") || !cat_clean(out, from) || !stralloc_cats(out, ">\n")) return 0;
    }
    else if (!cat_clean(out, from) || !stralloc_catb(out, "\n", 1)) return 0;
  }
  return 1;
}
