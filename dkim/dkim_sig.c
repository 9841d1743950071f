/* dkim_sig.c: the DKIM-Signature field (dkim_sig.h). */
#include <string.h>
#include <skalibs/types.h>
#include "b64.h"
#include "dkim_sig.h"

#define WIDTH 78

/* Appends tok; when it (and reserve more bytes) would pass WIDTH, folds
 * first (LF TAB), else puts sep (a blank, or nothing) before it. */
static int put_r(dkim_sig *g, char const *sep, char const *tok, size_t n, size_t reserve)
{
  size_t s = strlen(sep);
  if (g->col > 1 && g->col + s + n + reserve > WIDTH)
  {
    if (!stralloc_catb(&g->text, "\n\t", 2)) return 0;
    g->col = 8;
    s = 0;
  }
  if (!stralloc_catb(&g->text, sep, s) || !stralloc_catb(&g->text, tok, n)) return 0;
  g->col += s + n;
  return 1;
}

static int put(dkim_sig *g, char const *sep, char const *tok, size_t n)
{
  return put_r(g, sep, tok, n, 0);
}

static int tag(dkim_sig *g, char const *name, char const *value, size_t n)
{
  stralloc t = STRALLOC_ZERO;
  int ok = stralloc_cats(&t, name) && stralloc_catb(&t, "=", 1) && stralloc_catb(&t, value, n)
        && stralloc_catb(&t, ";", 1) && put(g, " ", t.s, t.len);
  stralloc_free(&t);
  return ok;
}

/* h=: names may be folded after a colon (RFC 6376's sig-h-tag). */
static int hlist_tag(dkim_sig *g, char const *h)
{
  int first = 1;
  while (*h)
  {
    char tok[80];
    size_t n = strcspn(h, ":"), k = 0;
    if (first) { memcpy(tok, "h=", 2); k = 2; }
    if (n > sizeof tok - 4) return 0;  /* the names are ours: never that long */
    memcpy(tok + k, h, n);
    k += n;
    h += n;
    tok[k++] = *h ? ':' : ';';
    if (*h) h++;
    if (!put(g, first ? " " : "", tok, k)) return 0;
    first = 0;
  }
  return 1;
}

int dkim_sig_start(dkim_sig *g, char const *alg, char const *d, char const *s,
  uint64_t t, char const *hlist, unsigned char const *bh)
{
  char num[UINT64_FMT];
  stralloc b = STRALLOC_ZERO;
  int ok;
  g->text.len = 0;
  g->col = 0;
  ok = put(g, "", "DKIM-Signature: v=1;", 20)
    && tag(g, "a", alg, strlen(alg))
    && tag(g, "c", "relaxed/relaxed", 15)
    && tag(g, "d", d, strlen(d))
    && tag(g, "s", s, strlen(s))
    && tag(g, "t", num, uint64_fmt(num, t))
    && hlist_tag(g, hlist)
    && b64_encode(&b, (char const *)bh, 32)
    && tag(g, "bh", b.s, b.len)
    && put_r(g, " ", "b=", 2, 16);
  stralloc_free(&b);
  return ok;
}

int dkim_sig_finish(dkim_sig *g, unsigned char const *sig, size_t n)
{
  stralloc b = STRALLOC_ZERO;
  size_t i = 0;
  int ok = b64_encode(&b, (char const *)sig, n);
  while (ok && i < b.len)
  {
    /* the first piece stays on the b= line, so no verifier has to decide
     * whether a fold right after b= is part of the value */
    size_t room = g->col < WIDTH ? WIDTH - g->col : 0, k;
    if (!room) { ok = stralloc_catb(&g->text, "\n\t", 2); g->col = 8; room = WIDTH - 8; }
    k = b.len - i < room ? b.len - i : room;
    ok = ok && stralloc_catb(&g->text, b.s + i, k);
    g->col += k;
    i += k;
  }
  stralloc_free(&b);
  return ok && stralloc_catb(&g->text, "\n", 1);
}

void dkim_sig_free(dkim_sig *g)
{
  stralloc_free(&g->text);
}
