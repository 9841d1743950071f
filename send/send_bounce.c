/* send_bounce.c: the RFC 3464 delivery status notifications of a message:
 * failures (bounces), delays, successes (docs/delivery.md shows one). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "dataenc.h"
#include "dsn.h"
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

/* "smtp; 550 ..." when the text carries an SMTP reply (a 2xx one too with
 * ok), else "x-tern; text". */
static int diagnostic(stralloc *sa, char const *text, int ok)
{
  size_t i, n = strlen(text);
  for (i = 0; i + 4 <= n; i++)
    if ((text[i] == '4' || text[i] == '5' || (ok && text[i] == '2')) && isdig(text[i+1]) && isdig(text[i+2])
     && (text[i+3] == ' ' || text[i+3] == '-') && (!i || text[i-1] == ' '))
      return stralloc_cats(sa, "smtp; ") && cat_clean(sa, text + i, BOUNCE_TEXT_MAX);
  return stralloc_cats(sa, "x-tern; ") && cat_clean(sa, text, BOUNCE_TEXT_MAX);
}

/* Appends the text of the original as every output reads it (lib/dataenc.h:
 * NUL dropped, a lone CR a line end, LF line ends): its first max bytes,
 * reading at most twice that of the queue file. */
static int orig_text(stralloc *text, int fd, uint64_t msglen, size_t max)
{
  char buf[8192];
  dataenc e;
  size_t start = text->len;
  uint64_t off = 0, most = msglen < 2 * (uint64_t)max ? msglen : 2 * (uint64_t)max;
  dataenc_init_lf(&e);
  while (off < most && text->len - start < max)
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
  if (text->len - start > max) text->len = start + max;
  return 1;
}

/* RET=FULL: the whole original (msglen is at most control/bouncemaxbytes),
 * as every output reads it, with controls other than tab turned into '?'. */
static int orig_full(stralloc *sa, int fd, uint64_t msglen)
{
  size_t start = sa->len, j;
  if (!orig_text(sa, fd, msglen, (size_t)msglen + 1)) return 0;
  for (j = start; j < sa->len; j++)
    if (((unsigned char)sa->s[j] < 32 && sa->s[j] != '\t' && sa->s[j] != '\n') || sa->s[j] == 127) sa->s[j] = '?';
  if (sa->len && sa->s[sa->len - 1] != '\n') return stralloc_catb(sa, "\n", 1);
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
  int fields = 0, ok = orig_text(&text, fd, msglen, BOUNCE_HEADER_MAX);
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

static char const *rtext(msg const *m, size_t i)
{
  return m->r[i].st.text == (size_t)-1 ? "no reason recorded" : m->texts.s + m->r[i].st.text;
}

/* The text a recipient's report quotes: tern-remote's mark left out. */
static char const *rtext_shown(msg const *m, size_t i)
{
  char const *t = rtext(m, i);
  size_t k = sizeof DSN_PASSED - 1;
  return strncmp(t, DSN_PASSED, k) ? t : t + k;
}

/* "Name: type;decoded-xtext" for ORCPT, "Name: decoded" for ENVID. */
static int xtext_field(stralloc *sa, char const *name, char const *v, size_t n, int typed)
{
  size_t t = 0;
  if (!v) return 1;
  if (typed)
  {
    while (t < n && v[t] != ';') t++;
    if (t == n) return 1;
    t++;
  }
  return stralloc_cats(sa, name) && stralloc_catb(sa, v, t) && dsn_xtext_cat(sa, v + t, n - t, 512)
      && stralloc_cats(sa, "\n");
}

static int per_rcpt(stralloc *sa, sendconf const *c, msg const *m, size_t i, char act)
{
  char const *text = rtext_shown(m, i), *orcpt;
  char st[16];
  size_t on = 0;
  int ok;
  if (act == 'S' || act == 'R') strcpy(st, "2.0.0");
  else if (!bounce_status(st, text) || st[0] != (act == 'W' ? '4' : st[0])) strcpy(st, act == 'W' ? "4.0.0" : "5.0.0");
  orcpt = dsn_param(envelope_rparams(&m->e, i), "ORCPT", &on);
  ok = stralloc_cats(sa, "\n") && xtext_field(sa, "Original-Recipient: ", orcpt, on, 1)
    && stralloc_cats(sa, "Final-Recipient: rfc822; ") && cat_clean(sa, envelope_rcpt(&m->e, i), 512)
    && stralloc_cats(sa, "\nAction: ")
    && stralloc_cats(sa, act == 'F' ? "failed" : act == 'W' ? "delayed" : act == 'S' ? "delivered" : "relayed")
    && stralloc_cats(sa, "\nStatus: ") && stralloc_cats(sa, st);
  if (ok && (act != 'W' || m->r[i].st.status))
    ok = stralloc_cats(sa, "\nDiagnostic-Code: ") && diagnostic(sa, text, act == 'S' || act == 'R')
      && stralloc_cats(sa, "\nLast-Attempt-Date: ") && date_fmt(sa, m->r[i].st.last);
  if (ok && act == 'W')
    ok = stralloc_cats(sa, "\nWill-Retry-Until: ") && date_fmt(sa, m->arrival + c->lifetime);
  return ok && stralloc_cats(sa, "\n");
}

static int has(char const *act, size_t n, char a)
{
  size_t i;
  for (i = 0; i < n; i++) if (act[i] == a) return 1;
  return 0;
}

/* One paragraph of the human part: its sentence, then the recipients. */
static int human_part(stralloc *sa, msg const *m, char const *act, char a, char const *intro, int *first)
{
  size_t i, n = envelope_nrcpt(&m->e);
  if (!has(act, n, a)) return 1;
  if (!*first && !stralloc_cats(sa, "\n")) return 0;
  *first = 0;
  if (!stralloc_cats(sa, intro)) return 0;
  for (i = 0; i < n; i++)
  {
    if (act[i] != a) continue;
    if (!stralloc_cats(sa, "\n<") || !cat_clean(sa, envelope_rcpt(&m->e, i), 512)
     || !stralloc_cats(sa, ">:\n") || !cat_clean(sa, m->r[i].st.status ? rtext_shown(m, i) : "not tried yet", BOUNCE_TEXT_MAX)
     || !stralloc_cats(sa, "\n")) return 0;
  }
  return 1;
}

/* What the third part returns: RET_HDRS the headers, RET_FULL the whole
 * message (a failure report that RET=FULL asked for), RET_CUT the headers
 * where RET=FULL asked for more than control/bouncemaxbytes. */
enum { RET_HDRS, RET_FULL, RET_CUT };

static int ret_kind(sendconf const *c, msg const *m, char const *act)
{
  if (!has(act, envelope_nrcpt(&m->e), 'F') || !dsn_ret_full(m->e.mparams)) return RET_HDRS;
  return m->size <= c->bouncemaxbytes ? RET_FULL : RET_CUT;
}

/* The sender asked for the whole message back and gets its headers: say so. */
static int cut_note(stralloc *sa, sendconf const *c, msg const *m)
{
  char size[UINT64_FMT], max[UINT_FMT];
  size[uint64_fmt(size, m->size)] = 0;
  max[uint_fmt(max, c->bouncemaxbytes)] = 0;
  return stralloc_cats(sa, "\nYou asked for your message back in full, but it is ") && stralloc_cats(sa, size)
    && stralloc_cats(sa, " bytes, more than\nthe ") && stralloc_cats(sa, max)
    && stralloc_cats(sa, " bytes this server returns (control/bouncemaxbytes):\n"
                         "only its headers are attached below; the body was cut.\n");
}

static int human(stralloc *sa, sendconf const *c, msg const *m, char const *act)
{
  int first = 1;
  return stralloc_cats(sa, "Content-Type: text/plain; charset=us-ascii\nContent-Description: Notification\n\n"
                           "Hi. This is tern-send at ") && cat_clean(sa, c->me.s, 255) && stralloc_cats(sa, ".\n")
    && human_part(sa, m, act, 'F', "I could not deliver your message to the following addresses.\n"
                                   "This is a permanent error; I have given up.\n", &first)
    && human_part(sa, m, act, 'W', "Your message has not been delivered yet to the following addresses.\n"
                                   "This is only a warning: I keep trying, you need not send it again.\n", &first)
    && human_part(sa, m, act, 'S', "Your message was delivered to the following addresses.\n", &first)
    && human_part(sa, m, act, 'R', "Your message was passed on to the following addresses' mail hosts,\n"
                                   "which do not send delivery reports: you will hear no more from them.\n", &first)
    && (ret_kind(c, m, act) != RET_CUT || cut_note(sa, c, m));
}

static char const *subject(char const *act, size_t n)
{
  if (has(act, n, 'F')) return "failure notice";
  if (has(act, n, 'W')) return "delivery delayed: still trying";
  return "delivery notification: success";
}

/* The third part: the original's header section, or the whole message
 * when a failure report was asked for with RET=FULL and it is not too big. */
static int returned(stralloc *out, sendconf const *c, msg const *m, int fd, char const *act)
{
  int kind = ret_kind(c, m, act);
  if (kind == RET_FULL)
    return stralloc_cats(out, "\nContent-Type: message/rfc822\nContent-Description: Undelivered message\n\n")
        && orig_full(out, fd, m->size);
  if (kind == RET_CUT)
    return stralloc_cats(out, "\nContent-Type: text/rfc822-headers\n"
                              "Content-Description: Undelivered message headers (body cut: over bouncemaxbytes)\n\n")
        && orig_headers(out, fd, m->size);
  return stralloc_cats(out, has(act, envelope_nrcpt(&m->e), 'F') || has(act, envelope_nrcpt(&m->e), 'W')
                              ? "\nContent-Type: text/rfc822-headers\nContent-Description: Undelivered message headers\n\n"
                              : "\nContent-Type: text/rfc822-headers\nContent-Description: Message headers\n\n")
      && orig_headers(out, fd, m->size);
}

int dsnreport_build(stralloc *out, sendconf const *c, msg const *m, int fd, char const *to, uint64_t now,
                    char const *act)
{
  stralloc b = STRALLOC_ZERO;
  char fmt[UINT64_FMT];
  char const *envid;
  size_t i, en = 0;
  int ok;
  fmt[uint64_fmt(fmt, now)] = 0;
  out->len = 0;
  envid = dsn_param(m->e.mparams, "ENVID", &en);
  /* The boundary holds the ID and the time of the bounce: the original
   * headers, the only text here we do not write, cannot know it in advance. */
  ok = stralloc_cats(&b, "tern-") && stralloc_cats(&b, m->id) && stralloc_catb(&b, "-", 1) && stralloc_cats(&b, fmt)
    && stralloc_0(&b)
    && stralloc_cats(out, "From: ") && cat_clean(out, c->bouncefrom.s, 255) && stralloc_catb(out, "@", 1)
    && cat_clean(out, c->bouncehost.s, 255)
    && stralloc_cats(out, "\nTo: <") && cat_clean(out, to, 512)
    && stralloc_cats(out, ">\nSubject: ") && stralloc_cats(out, subject(act, envelope_nrcpt(&m->e)))
    && stralloc_cats(out, "\nDate: ") && date_fmt(out, now)
    && stralloc_cats(out, "\nMessage-ID: <") && stralloc_cats(out, fmt) && stralloc_catb(out, ".", 1)
    && stralloc_cats(out, m->id) && stralloc_cats(out, ".bounce@") && cat_clean(out, c->me.s, 255)
    && stralloc_cats(out, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
                          "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"")
    && stralloc_cats(out, b.s) && stralloc_cats(out, "\"\n\nThis is a MIME-formatted delivery status notification.\n\n--")
    && stralloc_cats(out, b.s) && stralloc_cats(out, "\n") && human(out, c, m, act)
    && stralloc_cats(out, "\n--") && stralloc_cats(out, b.s)
    && stralloc_cats(out, "\nContent-Type: message/delivery-status\nContent-Description: Delivery report\n\n")
    && xtext_field(out, "Original-Envelope-Id: ", envid, en, 0)
    && stralloc_cats(out, "Reporting-MTA: dns; ") && cat_clean(out, c->me.s, 255)
    && stralloc_cats(out, "\nX-Tern-Queue-ID: ") && stralloc_cats(out, m->id)
    && stralloc_cats(out, "\nArrival-Date: ") && date_fmt(out, m->arrival) && stralloc_cats(out, "\n");
  for (i = 0; ok && i < envelope_nrcpt(&m->e); i++)
    if (act[i]) ok = per_rcpt(out, c, m, i, act[i]);
  ok = ok && stralloc_cats(out, "\n--") && stralloc_cats(out, b.s) && returned(out, c, m, fd, act)
    && stralloc_cats(out, "\n--") && stralloc_cats(out, b.s) && stralloc_cats(out, "--\n");
  stralloc_free(&b);
  return ok;
}

int bounce_build(stralloc *out, sendconf const *c, msg const *m, int fd, char const *to, uint64_t now)
{
  size_t i, n = envelope_nrcpt(&m->e);
  char *act = calloc(n ? n : 1, 1);
  int ok;
  if (!act) return 0;
  for (i = 0; i < n; i++) if (m->r[i].st.status == 'D') act[i] = 'F';
  ok = dsnreport_build(out, c, m, fd, to, now, act);
  free(act);
  return ok;
}
