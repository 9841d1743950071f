/* Unit tests for smtpd/smtp_data.c: the DATA byte machine. */
#include "tap.h"
#include "../../smtpd/smtp_data.h"

/* Feeds s; returns the bytes stored in out (NUL-terminated), the number of
 * input bytes consumed up to DATA_END in *used (-1 when no end). */
static int run(smtp_data *d, char const *s, size_t n, char *out, size_t *used)
{
  size_t i, o = 0;
  int ended = 0;
  for (i = 0; i < n; i++)
  {
    char c;
    int r = smtp_data_feed(d, s[i], &c);
    if (r == DATA_OUT) out[o++] = c;
    if (r == DATA_END) { ended = 1; i++; break; }
  }
  out[o] = 0;
  *used = i;
  return ended;
}

#define FEED(str) run(&d, str, sizeof(str) - 1, out, &used)

int main(void)
{
  smtp_data d;
  char out[1024];
  size_t used;

  smtp_data_init(&d, 0, 100);
  ok(FEED("a\r\nb\r\n.\r\nNEXT") && used == 9, "ends at CRLF.CRLF, not past it");
  is_str(out, "a\nb\n", "CRLF to LF");
  is_int(d.err, 0, "no error");

  smtp_data_init(&d, 0, 100);
  ok(FEED(".\r\n"), "an empty message ends at once");
  is_str(out, "", "nothing stored");

  smtp_data_init(&d, 0, 100);
  ok(FEED("..a\r\n...\r\n. \r\n.x\r\n.\r\n"), "stuffed dots");
  is_str(out, ".a\n..\n \nx\n", "one leading dot removed per line");

  smtp_data_init(&d, 0, 100);
  ok(FEED("a\r\nb.\r\n\r\n.\r\n"), "a dot elsewhere is data");
  is_str(out, "a\nb.\n\n", "kept");

  smtp_data_init(&d, 0, 100);
  ok(FEED("a\n.\n") && d.err == DATA_EBARELF, "LF.LF: ends, bare LF error");
  smtp_data_init(&d, 0, 100);
  ok(FEED("a\r\n.\nMAIL") && d.err == DATA_EBARELF && used == 5, "CRLF.LF: ends at the LF, bare LF error");
  smtp_data_init(&d, 0, 100);
  ok(FEED("a\n.\r\n") && d.err == DATA_EBARELF, "LF.CRLF: bare LF");
  smtp_data_init(&d, 0, 100);
  ok(FEED("a\r.\r") && d.err == DATA_EBARECR, "CR.CR: ends, bare CR");
  smtp_data_init(&d, 0, 100);
  ok(!FEED("a\r\n.\r") && !d.err, "CRLF.CR: waits for the LF");
  ok(FEED("\n"), "which ends it");
  smtp_data_init(&d, 0, 100);
  ok(FEED("a\r\n.\rX") && d.err == DATA_EBARECR, "CRLF.CR then a byte: bare CR, ends");
  smtp_data_init(&d, 0, 100);
  ok(FEED("ab\rc\r\nmore\r\n.\r\n") && d.err == DATA_EBARECR, "bare CR mid-line");
  is_str(out, "ab", "nothing stored after the error");
  smtp_data_init(&d, 0, 100);
  ok(!FEED("a\nb\r\nc\r\n") && d.err == DATA_EBARELF, "after a bare LF, no end without a dot line");
  smtp_data_init(&d, 0, 100);
  ok(FEED("a\0b\r\n.\r\n") && d.err == DATA_ENUL && used == 8, "NUL in the data: refused, the end still CRLF.CRLF");
  is_str(out, "a", "nothing stored from the NUL on");
  smtp_data_init(&d, 0, 100);
  ok(FEED("a\r\n\0.\r\nMAIL FROM:<x@y>\r\n.\r\n") && d.err == DATA_ENUL && used == 27, "a NUL-dot line is not the end");
  smtp_data_init(&d, 0, 100);
  ok(FEED("a\0\r\nb\n.\n") && d.err == DATA_EBARELF, "a bare LF after a NUL: the framing error wins (the session ends)");
  smtp_data_init(&d, 4, 100);
  ok(FEED("0123456789\r\n.\nMAIL") && d.err == DATA_EBARELF && used == 14, "a bare LF after the size error wins too");

  smtp_data_init(&d, 10, 100);
  ok(FEED("0123456789\r\n.\r\n") && d.err == DATA_ESIZE, "over max: size error, still ends at CRLF.CRLF");
  smtp_data_init(&d, 12, 100);
  ok(FEED("0123456789\r\n.\r\n") && !d.err, "exactly max bytes of content plus CRLF: fine");

  smtp_data_init(&d, 0, 2);
  ok(FEED("Received: a\r\nreceived: b\r\n\r\nReceived: body\r\n.\r\n") && !d.err, "two hops allowed; body lines do not count");
  smtp_data_init(&d, 0, 2);
  ok(FEED("Received: a\r\nRECEIVED: b\r\nX: y\r\nReceived: c\r\n\r\n.\r\n") && d.err == DATA_EHOPS, "three hops refused");
  smtp_data_init(&d, 0, 1);
  ok(FEED("X: y\r\n Received: folded\r\nReceivedX: no\r\n\r\n.\r\n") && !d.err, "folded and lookalike headers do not count");
  smtp_data_init(&d, 0, 1);
  ok(FEED("X: y\r\nnot a header\r\nReceived: a\r\nReceived: b\r\n\r\n.\r\n") && !d.err, "a line that is not a header ends the header section");
  smtp_data_init(&d, 0, 100);
  ok(FEED("Received: a\r\nDelivered-To:  U@Example.TEST \r\n\r\nDelivered-To: body@x\r\n.\r\n") && !d.err
     && d.hdr.received == 1 && msghdr_delivered_to(&d.hdr, "u@example.test") && !msghdr_delivered_to(&d.hdr, "body@x"),
     "the header section read on the way: Delivered-To kept, lowercased, body lines ignored");
  smtp_data_free(&d);
  return done_testing();
}
