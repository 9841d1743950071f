/* dkim_canon.c: relaxed canonicalisation of header fields and bodies (dkim_canon.h). */
#include <string.h>
#include "dkim_canon.h"

static int is_wsp(char c)
{
  return c == ' ' || c == '\t';
}

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

int dkim_canon_header(stralloc *out, char const *field, size_t n)
{
  char const *colon = memchr(field, ':', n);
  size_t name = colon ? (size_t)(colon - field) : n, i;
  int wsp = 0, any = 0;
  while (name && is_wsp(field[name - 1])) name--;
  if (!stralloc_readyplus(out, n + 2)) return 0;
  for (i = 0; i < name; i++) out->s[out->len++] = lower(field[i]);
  out->s[out->len++] = ':';
  /* The value: line ends vanish (unfolding), blanks collapse; a blank
   * run is written only when content follows it, so none lead or trail. */
  for (i = colon ? (size_t)(colon - field) + 1 : n; i < n; i++)
  {
    char c = field[i];
    if (c == '\r' || c == '\n') continue;
    if (is_wsp(c)) { wsp = 1; continue; }
    if (wsp && any) out->s[out->len++] = ' ';
    wsp = 0;
    any = 1;
    out->s[out->len++] = c;
  }
  return 1;
}

static void flush(dkim_body *b)
{
  br_sha256_update(&b->sha, b->out, b->n);
  if (b->copy && !b->nomem && !stralloc_catb(b->copy, b->out, b->n)) b->nomem = 1;
  b->n = 0;
}

static void emit(dkim_body *b, char const *s, size_t n)
{
  if (b->n + n > sizeof b->out) flush(b);
  memcpy(b->out + b->n, s, n);
  b->n += n;
}

void dkim_body_init(dkim_body *b, stralloc *copy)
{
  br_sha256_init(&b->sha);
  b->copy = copy;
  b->blanks = 0;
  b->started = b->wsp = b->cr = b->nomem = 0;
  b->n = 0;
}

static void line_end(dkim_body *b)
{
  if (b->started) emit(b, "\r\n", 2);
  else b->blanks++;   /* written only if content follows */
  b->started = b->wsp = 0;
}

static void content(dkim_body *b, char c)
{
  if (!b->started)
  {
    for (; b->blanks; b->blanks--) emit(b, "\r\n", 2);
    b->started = 1;
  }
  if (b->wsp) emit(b, " ", 1);
  b->wsp = 0;
  emit(b, &c, 1);
}

void dkim_body_put(dkim_body *b, char const *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    int cr = b->cr;
    b->cr = 0;
    if (c == '\n') { if (!cr) line_end(b); }
    else if (c == '\r') { line_end(b); b->cr = 1; }
    else if (is_wsp(c)) b->wsp = 1;
    else content(b, c);
  }
}

int dkim_body_end(dkim_body *b, unsigned char *hash)
{
  if (b->started) line_end(b);
  flush(b);
  br_sha256_out(&b->sha, hash);
  return !b->nomem;
}
