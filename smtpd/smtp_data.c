/* smtp_data.c: the DATA state machine (smtp_data.h). */
#include "smtp_data.h"

enum { ST_BOL, ST_MID, ST_CR, ST_DOT, ST_DOTCR, ST_SKIP_BOL, ST_SKIP_MID, ST_SKIP_DOT };

void smtp_data_init(smtp_data *d, uint64_t max, unsigned int maxhops)
{
  d->st = ST_BOL;
  d->err = 0;
  d->bytes = 0;
  d->max = max;
  d->maxhops = maxhops;
  msghdr_init(&d->hdr);
}

void smtp_data_free(smtp_data *d)
{
  msghdr_free(&d->hdr);
}

static int framing(int err) { return err == DATA_EBARELF || err == DATA_EBARECR; }

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
  if (!framing(d->err)) d->err = err;
  d->st = ST_SKIP_BOL;
  if (at_bol) return skip(d, c);
  if (c != '\r' && c != '\n') d->st = ST_SKIP_MID;
  return DATA_MORE;
}

/* A dot line ended by a broken line end: the client meant the end. */
static int fail_end(smtp_data *d, int err)
{
  if (!framing(d->err)) d->err = err;
  return DATA_END;
}

/* The header section, while it lasts (lib/msghdr.h): its Received count
 * is checked as it grows, its Delivered-To lines at the end (smtp_txn.c). */
static void header_track(smtp_data *d, char c)
{
  if (!msghdr_put(&d->hdr, &c, 1)) d->err = DATA_ENOMEM;
  else if (d->hdr.received > d->maxhops) d->err = DATA_EHOPS;
}

/* A message byte: stored unless an error already condemns the message. */
static int emit(smtp_data *d, char c, char *out)
{
  /* RFC 1870's size: CRLF counts 2, stuffing dots and the end do not */
  d->bytes += c == '\n' ? 2 : 1;
  if (d->max && d->bytes > d->max && !d->err) d->err = DATA_ESIZE;
  /* NUL: a receiver that drops it would see other lines than we do */
  if (!c && !d->err) d->err = DATA_ENUL;
  if (d->err) return DATA_MORE;
  if (!d->hdr.over) header_track(d, c);
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
