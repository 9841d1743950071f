/* send_bounce.c: the RFC 3464 delivery status notification for a message's
 * permanently failed recipients (docs/delivery.md shows one). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "dataenc.h"
#include "msghdr.h"
#include "send.h"

#define BOUNCE_HEADER_MAX 65536  /* bytes of the original's header quoted, at most */
#define BOUNCE_LINE_MAX 998      /* a quoted line is cut there (RFC 5322's limit) */
#define BOUNCE_TEXT_MAX 900      /* keeps every header line under 998 bytes */

static int date_fmt(stralloc *sa, uint64_t t)
{
  char buf[64];
  time_t tt = (time_t)t;
  struct tm tm;
  size_t n;
  if (!gmtime_r(&tt, &tm)) return 0;
  n = strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return n && stralloc_catb(sa, buf, n);
}

/* Appends s with controls turned into '?', at most max bytes. */
static int cat_clean(stralloc *sa, char const *s, size_t max)
{
  size_t start = sa->len, n = strlen(s);
  if (n > max) n = max;
  if (!stralloc_catb(sa, s, n)) return 0;
  for (; start < sa->len; start++)
    if ((unsigned char)sa->s[start] < 32 || sa->s[start] == 127) sa->s[start] = '?';
  return 1;
}

static int isdig(char c) { return c >= '0' && c <= '9'; }

/* Finds an RFC 3463 status (class.subject.detail) in text; st gets it,
 * NUL-terminated (at most 12 bytes). 1 found, 0 not. */
int bounce_status(char *st, char const *text)
{
  size_t i, n = strlen(text);
  for (i = 0; i + 5 <= n; i++)
  {
    size_t j = i + 2, a, b;
    if ((text[i] != '4' && text[i] != '5') || text[i+1] != '.' || (i && (isdig(text[i-1]) || text[i-1] == '.'))) continue;
    for (a = 0; a < 3 && isdig(text[j]); a++, j++) ;
    if (!a || text[j] != '.') continue;
    j++;
    for (b = 0; b < 3 && isdig(text[j]); b++, j++) ;
    if (!b || isdig(text[j]) || text[j] == '.') continue;
    memcpy(st, text + i, j - i);
    st[j - i] = 0;
    return 1;
  }
  return 0;
}

/* "smtp; 550 ..." when the text carries an SMTP reply, else "x-tern; text". */
static int diagnostic(stralloc *sa, char const *text)
{
  size_t i, n = strlen(text);
  for (i = 0; i + 4 <= n; i++)
    if ((text[i] == '4' || text[i] == '5') && isdig(text[i+1]) && isdig(text[i+2])
     && (text[i+3] == ' ' || text[i+3] == '-') && (!i || text[i-1] == ' '))
      return stralloc_cats(sa, "smtp; ") && cat_clean(sa, text + i, BOUNCE_TEXT_MAX);
  return stralloc_cats(sa, "x-tern; ") && cat_clean(sa, text, BOUNCE_TEXT_MAX);
}

/* The text of the original as every output reads it (lib/dataenc.h: NUL
 * dropped, a lone CR a line end, LF line ends): its first BOUNCE_HEADER_MAX
 * bytes, reading at most twice that of the queue file. */
static int orig_text(stralloc *text, int fd, uint64_t msglen)
{
  char buf[8192];
  dataenc e;
  uint64_t off = 0, most = msglen < 2 * BOUNCE_HEADER_MAX ? msglen : 2 * BOUNCE_HEADER_MAX;
  dataenc_init_lf(&e);
  while (off < most && text->len < BOUNCE_HEADER_MAX)
  {
    uint64_t want = most - off;
    ssize_t r = pread(fd, buf, want < sizeof buf ? (size_t)want : sizeof buf, (off_t)off);
    if (r < 0) { if (errno == EINTR) continue; return 0; }
    if (!r) break;
    off += (uint64_t)r;
    if (!dataenc_put(&e, buf, (size_t)r, text)) return 0;
  }
  /* the whole message read: its last line counts even without its LF */
  if (off == msglen && !dataenc_end(&e, text)) return 0;
  if (text->len > BOUNCE_HEADER_MAX) text->len = BOUNCE_HEADER_MAX;
  return 1;
}

/* The original's header section and nothing after it (lib/msghdr.h: up to
 * the first line that is neither a field nor its continuation): the whole
 * lines of it within orig_text, each cut at BOUNCE_LINE_MAX bytes, with
 * controls other than tab turned into '?'. A receiver of the bounce never
 * gets the original's body, nor a line it could take for the end of data. */
static int orig_headers(stralloc *sa, int fd, uint64_t msglen)
{
  stralloc text = STRALLOC_ZERO;
  size_t i = 0, v;
  int fields = 0, ok = orig_text(&text, fd, msglen);
  while (ok && i < text.len)
  {
    char const *line = text.s + i;
    char const *nl = memchr(line, '\n', text.len - i);
    size_t n, j, start = sa->len;
    if (!nl) break;                 /* cut by the limit: not whole */
    n = (size_t)(nl - line);
    i += n + 1;
    if (!n || ((line[0] == ' ' || line[0] == '\t') ? !fields : !msghdr_field(line, n, &v))) break;
    fields = 1;
    if (n > BOUNCE_LINE_MAX) n = BOUNCE_LINE_MAX;
    ok = stralloc_catb(sa, line, n) && stralloc_catb(sa, "\n", 1);
    for (j = start; ok && j < sa->len - 1; j++)
      if (((unsigned char)sa->s[j] < 32 && sa->s[j] != '\t') || sa->s[j] == 127) sa->s[j] = '?';
  }
  stralloc_free(&text);
  return ok;
}

static int per_rcpt(stralloc *sa, msg const *m, size_t i)
{
  char const *text = m->r[i].st.text == (size_t)-1 ? "no reason recorded" : m->texts.s + m->r[i].st.text;
  char st[16];
  if (!bounce_status(st, text)) strcpy(st, "5.0.0");
  return stralloc_cats(sa, "\nFinal-Recipient: rfc822; ") && cat_clean(sa, envelope_rcpt(&m->e, i), 512)
      && stralloc_cats(sa, "\nAction: failed\nStatus: ") && stralloc_cats(sa, st)
      && stralloc_cats(sa, "\nDiagnostic-Code: ") && diagnostic(sa, text)
      && stralloc_cats(sa, "\nLast-Attempt-Date: ") && date_fmt(sa, m->r[i].st.last)
      && stralloc_cats(sa, "\n");
}

static int human(stralloc *sa, sendconf const *c, msg const *m)
{
  size_t i;
  if (!stralloc_cats(sa, "Content-Type: text/plain; charset=us-ascii\nContent-Description: Notification\n\n"
                         "Hi. This is tern-send at ") || !cat_clean(sa, c->me.s, 255)
   || !stralloc_cats(sa, ".\nI could not deliver your message to the following addresses.\n"
                         "This is a permanent error; I have given up.\n")) return 0;
  for (i = 0; i < envelope_nrcpt(&m->e); i++)
  {
    char const *text;
    if (m->r[i].st.status != 'D') continue;
    text = m->r[i].st.text == (size_t)-1 ? "no reason recorded" : m->texts.s + m->r[i].st.text;
    if (!stralloc_cats(sa, "\n<") || !cat_clean(sa, envelope_rcpt(&m->e, i), 512)
     || !stralloc_cats(sa, ">:\n") || !cat_clean(sa, text, BOUNCE_TEXT_MAX) || !stralloc_cats(sa, "\n")) return 0;
  }
  return 1;
}

int bounce_build(stralloc *out, sendconf const *c, msg const *m, int fd, char const *to, uint64_t now)
{
  stralloc b = STRALLOC_ZERO;
  char fmt[UINT64_FMT];
  size_t i;
  int ok;
  fmt[uint64_fmt(fmt, now)] = 0;
  out->len = 0;
  /* The boundary holds the ID and the time of the bounce: the original
   * headers, the only text here we do not write, cannot know it in advance. */
  ok = stralloc_cats(&b, "tern-") && stralloc_cats(&b, m->id) && stralloc_catb(&b, "-", 1) && stralloc_cats(&b, fmt)
    && stralloc_0(&b)
    && stralloc_cats(out, "From: ") && cat_clean(out, c->bouncefrom.s, 255) && stralloc_catb(out, "@", 1)
    && cat_clean(out, c->bouncehost.s, 255)
    && stralloc_cats(out, "\nTo: <") && cat_clean(out, to, 512)
    && stralloc_cats(out, ">\nSubject: failure notice\nDate: ") && date_fmt(out, now)
    && stralloc_cats(out, "\nMessage-ID: <") && stralloc_cats(out, fmt) && stralloc_catb(out, ".", 1)
    && stralloc_cats(out, m->id) && stralloc_cats(out, ".bounce@") && cat_clean(out, c->me.s, 255)
    && stralloc_cats(out, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
                          "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"")
    && stralloc_cats(out, b.s) && stralloc_cats(out, "\"\n\nThis is a MIME-formatted delivery status notification.\n\n--")
    && stralloc_cats(out, b.s) && stralloc_cats(out, "\n") && human(out, c, m)
    && stralloc_cats(out, "\n--") && stralloc_cats(out, b.s)
    && stralloc_cats(out, "\nContent-Type: message/delivery-status\nContent-Description: Delivery report\n\n"
                          "Reporting-MTA: dns; ") && cat_clean(out, c->me.s, 255)
    && stralloc_cats(out, "\nX-Tern-Queue-ID: ") && stralloc_cats(out, m->id)
    && stralloc_cats(out, "\nArrival-Date: ") && date_fmt(out, m->arrival) && stralloc_cats(out, "\n");
  for (i = 0; ok && i < envelope_nrcpt(&m->e); i++)
    if (m->r[i].st.status == 'D') ok = per_rcpt(out, m, i);
  ok = ok && stralloc_cats(out, "\n--") && stralloc_cats(out, b.s)
    && stralloc_cats(out, "\nContent-Type: text/rfc822-headers\nContent-Description: Undelivered message headers\n\n")
    && orig_headers(out, fd, m->size)
    && stralloc_cats(out, "\n--") && stralloc_cats(out, b.s) && stralloc_cats(out, "--\n");
  stralloc_free(&b);
  return ok;
}
