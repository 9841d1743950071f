/* rbl_dialog.c: the refusing SMTP dialogue of tern-rblsmtpd (see rbl_dialog.h). */
#include <errno.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/bytestr.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include <skalibs/unix-timed.h>
#include "rbl_dialog.h"

/* One command line, without its LF or CRLF. Bytes past max are read and
 * dropped. Returns 1 a line, 2 an overlong line, 0 EOF, -1 timeout/error. */
static int get_line(buffer *b, stralloc *line, size_t max, tain const *deadline)
{
  int toolong = 0;
  line->len = 0;
  for (;;)
  {
    char c;
    if (!buffer_getnofill(b, &c, 1))
    {
      ssize_t r = buffer_timed_fill_g(b, deadline);
      if (r <= 0) return r < 0 ? -1 : 0;
      continue;
    }
    if (c == '\n') break;
    if (line->len >= max) { toolong = 1; continue; }
    if (!stralloc_catb(line, &c, 1)) return -1;
  }
  if (line->len && line->s[line->len - 1] == '\r') line->len--;
  return toolong ? 2 : 1;
}

static int is_verb(stralloc const *line, size_t vlen, char const *verb)
{
  return vlen == strlen(verb) && !case_diffb(line->s, vlen, verb);
}

/* The reply to one command; 1 when the client said QUIT. */
static int reply(buffer *out, stralloc const *line, char const *refusal)
{
  size_t vlen = 0;
  while (vlen < line->len && line->s[vlen] != ' ') vlen++;
  if (is_verb(line, vlen, "QUIT"))
    return (buffer_putsnoflush(out, "221 2.0.0 " RBL_HOST " closing connection\r\n"), 1);
  if (is_verb(line, vlen, "HELO") || is_verb(line, vlen, "EHLO"))
    buffer_putsnoflush(out, "250 " RBL_HOST "\r\n");
  else if (is_verb(line, vlen, "RSET") || is_verb(line, vlen, "NOOP"))
    buffer_putsnoflush(out, "250 2.0.0 ok\r\n");
  else if (!vlen)
    buffer_putsnoflush(out, "500 5.5.2 empty command\r\n");
  else  /* MAIL, RCPT, DATA and the rest: the reason, every time */
    buffer_putsnoflush(out, refusal);
  return 0;
}

int rbl_dialog(int in, int out, int code, char const *text, size_t maxline, tain const *deadline)
{
  char ibuf[BUFFER_INSIZE_SMALL], obuf[BUFFER_OUTSIZE];
  buffer bi = BUFFER_INIT(&buffer_read, in, ibuf, sizeof ibuf);
  buffer bo = BUFFER_INIT(&buffer_write, out, obuf, sizeof obuf);
  stralloc refusal = STRALLOC_ZERO, line = STRALLOC_ZERO;
  char fmt[UINT_FMT];
  int end = RBL_END_ERROR;
  if (ndelay_on(in) < 0 || ndelay_on(out) < 0) return RBL_END_ERROR;
  fmt[uint_fmt(fmt, (unsigned int)code)] = 0;
  if (!stralloc_cats(&refusal, fmt) || !stralloc_cats(&refusal, code >= 500 ? " 5.7.1 " : " 4.7.1 ")
      || !stralloc_cats(&refusal, text) || !stralloc_cats(&refusal, "\r\n") || !stralloc_0(&refusal)
      || !stralloc_ready(&line, maxline)) goto done;
  buffer_putsnoflush(&bo, "220 " RBL_HOST " ESMTP\r\n");
  for (;;)
  {
    int r;
    /* answer a pipelined batch at once, and never let replies pile up */
    if ((!buffer_len(&bi) || buffer_available(&bo) < refusal.len + 64)
        && !buffer_timed_flush_g(&bo, deadline)) { end = errno == ETIMEDOUT ? RBL_END_TIMEOUT : RBL_END_ERROR; break; }
    r = get_line(&bi, &line, maxline, deadline);
    if (r == 0) { end = RBL_END_EOF; break; }
    if (r < 0)
    {
      end = errno == ETIMEDOUT ? RBL_END_TIMEOUT : RBL_END_ERROR;
      if (end == RBL_END_TIMEOUT)
        buffer_putsnoflush(&bo, "421 4.4.2 " RBL_HOST " time limit reached, closing connection\r\n");
      buffer_flush(&bo);   /* non-blocking: what fits, no waiting */
      break;
    }
    if (r == 2) buffer_putsnoflush(&bo, "500 5.5.2 line too long\r\n");
    else if (reply(&bo, &line, refusal.s))
    {
      end = buffer_timed_flush_g(&bo, deadline) ? RBL_END_QUIT : RBL_END_ERROR;
      break;
    }
  }
 done:
  stralloc_free(&refusal);
  stralloc_free(&line);
  return end;
}
