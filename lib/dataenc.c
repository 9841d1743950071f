/* dataenc.c: one reading of stored line ends for every output (dataenc.h). */
#include <string.h>
#include "dataenc.h"

void dataenc_init(dataenc *e, uint64_t maxbody)
{
  dataenc z = DATAENC_ZERO;
  *e = z;
  e->maxbody = maxbody;
}

void dataenc_init_lf(dataenc *e)
{
  dataenc z = DATAENC_ZERO;
  *e = z;
  e->lf = 1;
}

/* The LF form of a chunk without CR or NUL is the chunk itself. */
static int fast(dataenc *e, char const *s, size_t n, stralloc *out)
{
  if (!e->lf || e->cr || e->maxbody != UINT64_MAX || memchr(s, '\r', n) || memchr(s, 0, n)) return 0;
  if (!stralloc_catb(out, s, n)) return -1;
  e->bol = s[n - 1] == '\n';
  return 1;
}

int dataenc_put(dataenc *e, char const *s, size_t n, stralloc *out)
{
  size_t i;
  char *o;
  if (!n || e->done) return 1;
  switch (fast(e, s, n, out)) { case 1: return 1; case -1: return 0; }
  if (n > ((size_t)-1 - out->len) / 2) return 0;
  if (!stralloc_readyplus(out, 2 * n)) return 0;
  o = out->s + out->len;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    if (!c) continue;                              /* NUL never leaves */
    if (c == '\n' && e->cr) { e->cr = 0; continue; }  /* the LF of CR LF */
    e->cr = 0;
    if (e->bol)
    {
      /* c begins a line (an empty one if c ends it) */
      if (e->body && e->bodylines++ >= e->maxbody) { e->done = 1; break; }
      e->bol = 0;
      e->blank = 1;
      if (c == '.' && !e->lf) { *o++ = '.'; e->stuffed++; }
    }
    if (c == '\n' || c == '\r')
    {
      if (!e->lf) *o++ = '\r';
      *o++ = '\n';
      if (e->blank) e->body = 1;   /* the first empty line ends the header */
      e->bol = 1;
      e->cr = c == '\r';
    }
    else
    {
      *o++ = c;
      e->blank = 0;
    }
  }
  out->len = (size_t)(o - out->s);
  return 1;
}

int dataenc_end(dataenc *e, stralloc *out)
{
  if (!e->bol && !stralloc_catb(out, &"\r\n"[e->lf], 2 - e->lf)) return 0;
  e->bol = 1;
  e->cr = 0;
  return e->lf || stralloc_catb(out, ".\r\n", 3);
}
