/* remote_data.c: CRLF line ends and dot-stuffing for the DATA stream. */
#include "remote_data.h"

int dataenc_put(dataenc *e, char const *s, size_t n, stralloc *out)
{
  size_t i;
  char *o;
  /* Each input byte gives at most two output bytes ("\n" or a leading "."). */
  if (n > ((size_t)-1 - out->len - 8) / 2) return 0;
  if (!stralloc_readyplus(out, 2 * n)) return 0;
  o = out->s + out->len;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    if (c == '\n')
    {
      /* After a CR the line end is already out: CR LF is one line end. */
      if (!e->cr) { *o++ = '\r'; *o++ = '\n'; }
      e->cr = 0;
      e->bol = 1;
    }
    else if (c == '\r')
    {
      /* A CR ends the line at once, alone or as the first half of CR LF. */
      *o++ = '\r'; *o++ = '\n';
      e->cr = 1;
      e->bol = 1;
    }
    else
    {
      if (e->bol && c == '.') *o++ = '.';
      *o++ = c;
      e->cr = 0;
      e->bol = 0;
    }
  }
  out->len = (size_t)(o - out->s);
  return 1;
}

int dataenc_end(dataenc *e, stralloc *out)
{
  if (!e->bol && !stralloc_catb(out, "\r\n", 2)) return 0;
  e->bol = 1;
  e->cr = 0;
  return stralloc_catb(out, ".\r\n", 3);
}
