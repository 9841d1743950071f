/* smtp_data.c: the DATA state machine (smtp_data.h). */
#include <strings.h>
#include "smtp_data.h"

enum { ST_BOL, ST_MID, ST_CR, ST_DOT, ST_DOTCR, ST_SKIP_BOL, ST_SKIP_MID, ST_SKIP_DOT };

void smtp_data_init(smtp_data *d, uint64_t max, unsigned int maxhops)
{
  d->st = ST_BOL;
  d->err = 0;
  d->inheader = 1;
  d->bytes = 0;
  d->max = max;
  d->hops = 0;
  d->maxhops = maxhops;
  d->hlen = 0;
}

/* After an error we only look for the end, accepting any line-end variant
 * (CR, LF or CRLF around the dot): the client that sent bare line ends
 * probably ends that way too, and we close the connection after replying,
 * so nothing it sends can be taken as a command. */
static int skip(smtp_data *d, char c)
{
  int eol = c == '\r' || c == '\n';
  switch (d->st)
  {
    case ST_SKIP_BOL:
      if (c == '.') d->st = ST_SKIP_DOT;
      else if (!eol) d->st = ST_SKIP_MID;
      return DATA_MORE;
    case ST_SKIP_DOT:
      if (eol) return DATA_END;
      d->st = ST_SKIP_MID;
      return DATA_MORE;
    default:
      if (eol) d->st = ST_SKIP_BOL;
      return DATA_MORE;
  }
}

/* A broken line end. With at_bol, the byte before c (a lone CR) counts
 * as a line end, so c starts a line: it may be the dot of the end. */
static int fail(smtp_data *d, int err, char c, int at_bol)
{
  if (!d->err) d->err = err;
  d->st = ST_SKIP_BOL;
  if (at_bol) return skip(d, c);
  if (c != '\r' && c != '\n') d->st = ST_SKIP_MID;
  return DATA_MORE;
}

/* A dot line ended by a broken line end: the client meant the end. */
static int fail_end(smtp_data *d, int err)
{
  if (!d->err) d->err = err;
  return DATA_END;
}

/* Counts Received: lines among the headers (the first 9 bytes of each). */
static void header_track(smtp_data *d, char c)
{
  if (!d->inheader) return;
  if (d->hlen < 9) d->hname[d->hlen] = c;
  d->hlen++;
  if (d->hlen == 9 && !strncasecmp(d->hname, "received:", 9) && ++d->hops > d->maxhops && !d->err)
    d->err = DATA_EHOPS;
}

static void line_end(smtp_data *d)
{
  if (d->inheader && !d->hlen) d->inheader = 0;   /* the empty line */
  d->hlen = 0;
}

/* A message byte: stored unless an error already condemns the message. */
static int emit(smtp_data *d, char c, char *out)
{
  if (c == '\n') line_end(d); else header_track(d, c);
  /* RFC 1870's size: CRLF counts 2, stuffing dots and the end do not */
  d->bytes += c == '\n' ? 2 : 1;
  if (d->max && d->bytes > d->max && !d->err) d->err = DATA_ESIZE;
  if (d->err) return DATA_MORE;
  *out = c;
  return DATA_OUT;
}

int smtp_data_feed(smtp_data *d, char c, char *out)
{
  if (d->st >= ST_SKIP_BOL) return skip(d, c);
  switch (d->st)
  {
    case ST_BOL:
      if (c == '.') { d->st = ST_DOT; return DATA_MORE; }
      /* fall through */
    case ST_MID:
    mid:
      if (c == '\r') { d->st = ST_CR; return DATA_MORE; }
      if (c == '\n') return fail(d, DATA_EBARELF, c, 0);
      d->st = ST_MID;
      return emit(d, c, out);
    case ST_CR:
      if (c != '\n') return fail(d, DATA_EBARECR, c, 1);
      d->st = ST_BOL;
      return emit(d, '\n', out);
    case ST_DOT:
      if (c == '\r') { d->st = ST_DOTCR; return DATA_MORE; }
      if (c == '\n') return fail_end(d, DATA_EBARELF);
      goto mid;   /* a stuffed dot: drop it, keep the byte after it */
    case ST_DOTCR:
      if (c == '\n') return DATA_END;
      return fail_end(d, DATA_EBARECR);
  }
  return DATA_MORE;
}
