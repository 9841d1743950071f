/* Unit test for send/send_bounce.c: the RFC 3464 report, byte for byte
 * against a golden copy. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "envelope.h"
#include "../../send/send.h"

static char const golden[] =
  "From: MAILER-DAEMON@bounce.ex.test\n"
  "To: <alice@ex.test>\n"
  "Subject: failure notice\n"
  "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
  "Message-ID: <1700000000.6553f1000000abcd.bounce@mx.ex.test>\n"
  "Auto-Submitted: auto-replied\n"
  "MIME-Version: 1.0\n"
  "Content-Type: multipart/report; report-type=delivery-status;\n"
  "\tboundary=\"tern-6553f1000000abcd-1700000000\"\n"
  "\n"
  "This is a MIME-formatted delivery status notification.\n"
  "\n"
  "--tern-6553f1000000abcd-1700000000\n"
  "Content-Type: text/plain; charset=us-ascii\n"
  "Content-Description: Notification\n"
  "\n"
  "Hi. This is tern-send at mx.ex.test.\n"
  "I could not deliver your message to the following addresses.\n"
  "This is a permanent error; I have given up.\n"
  "\n"
  "<bad@far.test>:\n"
  "mx.far.test [127.0.0.2] said: 550 5.1.1 no such user\n"
  "\n"
  "<b2@far.test>:\n"
  "no MX?\n"
  "\n"
  "--tern-6553f1000000abcd-1700000000\n"
  "Content-Type: message/delivery-status\n"
  "Content-Description: Delivery report\n"
  "\n"
  "Reporting-MTA: dns; mx.ex.test\n"
  "X-Tern-Queue-ID: 6553f1000000abcd\n"
  "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
  "\n"
  "Final-Recipient: rfc822; bad@far.test\n"
  "Action: failed\n"
  "Status: 5.1.1\n"
  "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
  "Last-Attempt-Date: Tue, 14 Nov 2023 22:13:30 +0000\n"
  "\n"
  "Final-Recipient: rfc822; b2@far.test\n"
  "Action: failed\n"
  "Status: 5.0.0\n"
  "Diagnostic-Code: x-tern; no MX?\n"
  "Last-Attempt-Date: Tue, 14 Nov 2023 22:13:30 +0000\n"
  "\n"
  "--tern-6553f1000000abcd-1700000000\n"
  "Content-Type: text/rfc822-headers\n"
  "Content-Description: Undelivered message headers\n"
  "\n"
  "From: alice@ex.test\n"
  "Subject: hi\n"
  "\n"
  "--tern-6553f1000000abcd-1700000000--\n";

int main(void)
{
  static char const message[] = "From: alice@ex.test\nSubject: hi\n\nsecret body\n";
  static char const env[] = "Falice@ex.test\0Tok@far.test\0Tbad@far.test\0Tb2@far.test\0";
  char path[] = "/tmp/tern-bounce-XXXXXX";
  sendconf c = { 0 };
  msg m = { 0 };
  rcpt r[3] = { { .st = { 'K', 0, 0, (size_t)-1 } } };
  stralloc out = STRALLOC_ZERO;
  int fd = mkstemp(path);
  if (fd < 0 || write(fd, message, sizeof message - 1) != (ssize_t)(sizeof message - 1)) return 111;
  unlink(path);
  stralloc_copys(&c.me, "mx.ex.test"); stralloc_0(&c.me);
  stralloc_copys(&c.bouncefrom, "MAILER-DAEMON"); stralloc_0(&c.bouncefrom);
  stralloc_copys(&c.bouncehost, "bounce.ex.test"); stralloc_0(&c.bouncehost);
  strcpy(m.id, "6553f1000000abcd");
  m.arrival = 1700000000;
  m.size = sizeof message - 1;
  stralloc_catb(&m.env, env, sizeof env);
  ok(envelope_parse(&m.e, m.env.s, m.env.len, 1) == 1, "envelope");
  stralloc_catb(&m.texts, "mx.far.test [127.0.0.2] said: 550 5.1.1 no such user\0no MX\n\0", 61);
  r[1].st.status = 'D'; r[1].st.last = 1700000010; r[1].st.text = 0;
  r[2].st.status = 'D'; r[2].st.last = 1700000010; r[2].st.text = strlen(m.texts.s) + 1;
  m.r = r;
  ok(bounce_build(&out, &c, &m, fd, "alice@ex.test", 1700000000), "built");
  stralloc_0(&out);
  is_str(out.s, golden, "the report matches the golden copy");
  ok(!strstr(out.s, "secret body"), "the body is left out");
  {
    /* what an older queue may hold: NUL, a lone CR, a body with no empty line */
    static char const odd[] = "Subject: a\r\nX: \0b\rY: c\n \0.\n\0.\nZ: after\n\nbody\n";
    static char const want[] = "\nContent-Description: Undelivered message headers\n\n"
                               "Subject: a\nX: b\nY: c\n .\n\n--tern-6553f1000000abcd-1700000000--\n";
    char p2[] = "/tmp/tern-bounce-XXXXXX";
    int fd2 = mkstemp(p2);
    ok(fd2 >= 0 && write(fd2, odd, sizeof odd - 1) == (ssize_t)(sizeof odd - 1), "odd message written");
    unlink(p2);
    m.size = sizeof odd - 1;
    ok(bounce_build(&out, &c, &m, fd2, "alice@ex.test", 1700000000), "built");
    stralloc_0(&out);
    ok(strstr(out.s, want) && !memchr(out.s, '\r', out.len), "only the header section is quoted, NUL dropped, CR a line end");
  }
  {
    /* RET=FULL: the whole message up to control/bouncemaxbytes, else the
     * headers and a note that the body was cut */
    static char const envf[] = "Falice@ex.test\0MRET=FULL\0Tok@far.test\0Tbad@far.test\0Tb2@far.test\0";
    m.env.len = 0;
    stralloc_catb(&m.env, envf, sizeof envf);
    ok(envelope_parse(&m.e, m.env.s, m.env.len, 1) == 1, "envelope with RET=FULL");
    m.size = sizeof message - 1;
    c.bouncemaxbytes = m.size;
    ok(bounce_build(&out, &c, &m, fd, "alice@ex.test", 1700000000), "built");
    stralloc_0(&out);
    ok(strstr(out.s, "\nContent-Type: message/rfc822\nContent-Description: Undelivered message\n\n"
                     "From: alice@ex.test\nSubject: hi\n\nsecret body\n\n--") != 0, "RET=FULL at the limit: the whole message");
    ok(!strstr(out.s, "cut"), "and no note");
    c.bouncemaxbytes = m.size - 1;
    ok(bounce_build(&out, &c, &m, fd, "alice@ex.test", 1700000000), "built");
    stralloc_0(&out);
    ok(strstr(out.s, "Content-Type: text/rfc822-headers\nContent-Description: Undelivered message headers "
                     "(body cut: over bouncemaxbytes)\n\nFrom: alice@ex.test\nSubject: hi\n\n--") != 0,
       "RET=FULL over the limit: the headers");
    ok(strstr(out.s, "\nYou asked for your message back in full, but it is 45 bytes, more than\nthe 44 bytes "
                     "this server returns (control/bouncemaxbytes):\nonly its headers are attached below; the body was cut.\n") != 0,
       "and a note says the body was cut");
    ok(!strstr(out.s, "secret body"), "the body is left out");
  }
  return done_testing();
}
