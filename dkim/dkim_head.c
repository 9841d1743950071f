/* dkim_head.c: the header section, the fields signed, the header hash (dkim_head.h). */
#include <string.h>
#include <strings.h>
#include <bearssl.h>
#include "dkim_canon.h"
#include "dkim_from.h"
#include "dkim_head.h"

/* The fields a signature covers, in h= order. OVER_ALWAYS: listed once
 * more than present, even when absent, so that nobody can add one on the
 * way (a second From or Subject shown to the reader instead of ours).
 * OVER_PRESENT: the same when the message has one; absent, it may be
 * added (a list adds List-Id). SIGN: the instances present. */
enum { SIGN, OVER_PRESENT, OVER_ALWAYS };
static struct { char const *name; int rule; } const table[] =
{
  { "from", OVER_ALWAYS }, { "sender", OVER_PRESENT }, { "reply-to", OVER_ALWAYS },
  { "subject", OVER_ALWAYS }, { "date", OVER_PRESENT }, { "message-id", OVER_PRESENT },
  { "to", OVER_ALWAYS }, { "cc", OVER_ALWAYS },
  { "mime-version", OVER_PRESENT }, { "content-type", OVER_PRESENT },
  { "content-transfer-encoding", OVER_PRESENT }, { "content-disposition", OVER_PRESENT },
  { "in-reply-to", OVER_PRESENT }, { "references", OVER_PRESENT },
  { "resent-date", SIGN }, { "resent-from", SIGN }, { "resent-sender", SIGN },
  { "resent-to", SIGN }, { "resent-cc", SIGN }, { "resent-message-id", SIGN },
  { "list-id", SIGN }, { "list-help", SIGN }, { "list-unsubscribe", SIGN },
  { "list-unsubscribe-post", SIGN }, { "list-subscribe", SIGN }, { "list-post", SIGN },
  { "list-owner", SIGN }, { "list-archive", SIGN },
  { "openpgp", OVER_PRESENT }, { "autocrypt", OVER_PRESENT },
};

static int is_wsp(char c)
{
  return c == ' ' || c == '\t';
}

/* The line at s[i..): 1 with *e its end and *next the start of the next
 * line; 0 when its line end has not arrived (a CR last may be a CRLF's). */
static int line_at(char const *s, size_t n, size_t i, int eof, size_t *e, size_t *next)
{
  size_t j = i;
  while (j < n && s[j] != '\n' && s[j] != '\r') j++;
  if (j == n)
  {
    if (!eof) return 0;
    *e = *next = n;
    return 1;
  }
  if (s[j] == '\r' && j + 1 == n && !eof) return 0;
  *e = j;
  *next = j + 1 + (s[j] == '\r' && j + 1 < n && s[j+1] == '\n');
  return 1;
}

/* Length of the name when s[0..n) starts a field, else 0. */
static size_t field_name(char const *s, size_t n)
{
  size_t i = 0, name;
  while (i < n && s[i] > 32 && s[i] < 127 && s[i] != ':') i++;
  name = i;
  while (i < n && is_wsp(s[i])) i++;
  return name && i < n && s[i] == ':' ? name : 0;
}

int dkim_head_end(dkim_hscan *st, char const *s, size_t n, int eof, size_t *hlen, size_t *body)
{
  for (;;)
  {
    size_t e, next, i = st->pos;
    if (i == n && eof) { *hlen = *body = n; return 1; }
    if (!line_at(s, n, i, eof, &e, &next)) return 0;
    if (e == i) { *hlen = i; *body = next; return 1; }
    if (!(st->fields && is_wsp(s[i])) && !field_name(s + i, e - i)) { *hlen = *body = i; return 1; }
    st->fields = 1;
    st->pos = next;
  }
}

int dkim_head_fields(genalloc *g, char const *s, size_t n)
{
  size_t i = 0, e, next;
  while (i < n && line_at(s, n, i, 1, &e, &next))
  {
    size_t name = field_name(s + i, e - i);
    if (name)
    {
      dkim_field f = { .pos = i, .len = e - i, .namelen = name };
      if (!genalloc_append(dkim_field, g, &f)) return 0;
    }
    else if (genalloc_len(dkim_field, g) && e > i && is_wsp(s[i]))
    {
      dkim_field *last = genalloc_s(dkim_field, g) + genalloc_len(dkim_field, g) - 1;
      last->len = e - last->pos;
    }
    i = next;
  }
  return 1;
}

int dkim_head_is(char const *s, dkim_field const *f, char const *name)
{
  return f->namelen == strlen(name) && !strncasecmp(s + f->pos, name, f->namelen);
}

int dkim_head_from(stralloc *dom, char const *s, dkim_field const *f, size_t nf)
{
  size_t i;
  for (i = 0; i < nf; i++)
    if (dkim_head_is(s, f + i, "from"))
    {
      char const *v = memchr(s + f[i].pos, ':', f[i].len) + 1;
      return dkim_from_domain(dom, v, (size_t)(s + f[i].pos + f[i].len - v));
    }
  return 0;
}

int dkim_head_hlist(stralloc *h, char const *s, dkim_field const *f, size_t nf)
{
  size_t t, i;
  h->len = 0;
  for (t = 0; t < sizeof table / sizeof *table; t++)
  {
    size_t count = 0;
    for (i = 0; i < nf; i++) count += dkim_head_is(s, f + i, table[t].name);
    if (table[t].rule == OVER_ALWAYS || (table[t].rule == OVER_PRESENT && count)) count++;
    for (; count; count--)
      if ((h->len && !stralloc_catb(h, ":", 1)) || !stralloc_cats(h, table[t].name)) return 0;
  }
  return stralloc_0(h);
}

static int is_sep(char c)
{
  return c == ':' || is_wsp(c) || c == '\r' || c == '\n';
}

/* Feeds the lowest field named name[0..len) not used yet, if any. */
static int feed_field(br_sha256_context *sha, stralloc *tmp, char *used, char const *s,
  dkim_field const *f, size_t nf, char const *name, size_t len)
{
  size_t i = nf;
  while (i--)
  {
    if (used[i] || f[i].namelen != len || strncasecmp(s + f[i].pos, name, len)) continue;
    used[i] = 1;
    tmp->len = 0;
    if (!dkim_canon_header(tmp, s + f[i].pos, f[i].len) || !stralloc_catb(tmp, "\r\n", 2)) return 0;
    br_sha256_update(sha, tmp->s, tmp->len);
    return 1;
  }
  return 1;
}

int dkim_head_hash(unsigned char *hash, char const *s, dkim_field const *f, size_t nf,
  char const *hlist, char const *sig, size_t siglen)
{
  br_sha256_context sha;
  stralloc tmp = STRALLOC_ZERO, used = STRALLOC_ZERO;
  int ok = stralloc_ready(&used, nf + 1);
  if (ok) memset(used.s, 0, nf + 1);
  br_sha256_init(&sha);
  while (ok && *hlist)
  {
    size_t len = 0;
    while (*hlist && is_sep(*hlist)) hlist++;
    while (hlist[len] && !is_sep(hlist[len])) len++;
    if (len) ok = feed_field(&sha, &tmp, used.s, s, f, nf, hlist, len);
    hlist += len;
  }
  tmp.len = 0;
  if (ok) ok = dkim_canon_header(&tmp, sig, siglen);
  if (ok)
  {
    br_sha256_update(&sha, tmp.s, tmp.len);
    br_sha256_out(&sha, hash);
  }
  stralloc_free(&tmp);
  stralloc_free(&used);
  return ok;
}
