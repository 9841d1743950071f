/* Unit tests for lib/msghdr.c: where the header section ends, and what the
 * loop checks read in it. */
#include <string.h>
#include "tap.h"
#include "msghdr.h"

/* Feeds s in pieces of k bytes, then ends. */
static void scan(msghdr *h, char const *s, size_t k)
{
  size_t n = strlen(s), i;
  msghdr_free(h);
  msghdr_init(h);
  for (i = 0; i < n; i += k) msghdr_put(h, s + i, n - i < k ? n - i : k);
  msghdr_end(h);
}

int main(void)
{
  msghdr h = MSGHDR_ZERO;
  size_t v, k;
  is_int(msghdr_field("Subject: x", 10, &v), 7, "a field: its name's length");
  is_int(v, 8, "the value after the colon");
  is_int(msghdr_field("Subject : x", 11, &v), 7, "blanks before the colon (obsolete syntax)");
  is_int(v, 9, "the value after the colon");
  ok(!msghdr_field("MAIL FROM:<a@b>", 15, &v), "a blank inside the name: not a field");
  ok(!msghdr_field(": x", 3, &v) && !msghdr_field("Subject", 7, &v) && !msghdr_field(" a: b", 5, &v), "no name, no colon, a blank first: not a field");
  ok(!msghdr_field("Sub\x01ject: x", 11, &v) && !msghdr_field("S\xe9: x", 5, &v), "controls and 8-bit bytes: not a name");
  ok(msghdr_field(".: x", 4, &v) == 1, "\".\" is a valid field name");
  for (k = 1; k <= 100; k += 99)
  {
    scan(&h, "Received: a\nReceived: b\n c\nDelivered-To:  A@Ex.Test \t\nX: y\n\nReceived: body\nDelivered-To: body@x\n", k);
    ok(h.received == 2 && msghdr_delivered_to(&h, "a@ex.test") && !msghdr_delivered_to(&h, "body@x"),
       "two Received, a Delivered-To (lowercased, trimmed); the body not read (pieces of %zu)", k);
    scan(&h, "Received: a\nnot a header\nReceived: b\nDelivered-To: a@x\n\n", k);
    ok(h.received == 1 && !msghdr_delivered_to(&h, "a@x"), "a line that is not a field ends the section (pieces of %zu)", k);
    scan(&h, " folded first\nReceived: a\n", k);
    ok(h.received == 0, "a continuation with no field before it ends the section (pieces of %zu)", k);
    scan(&h, "Delivered-To:\n a@x\nDelivered-To: b@x", k);
    ok(!msghdr_delivered_to(&h, "a@x") && msghdr_delivered_to(&h, "b@x"), "a folded value is not read; a last line without LF is (pieces of %zu)", k);
  }
  {
    static char big[MSGHDR_LINE + 64];
    memset(big, ' ', sizeof big - 1);
    memcpy(big, "Delivered-To:", 13);
    memcpy(big + sizeof big - 5, "a@x\n", 4);
    scan(&h, big, 1000);
    ok(!msghdr_delivered_to(&h, "a@x") && h.over, "a Delivered-To line longer than MSGHDR_LINE is not read");
    big[20] = 0;
    memcpy(big + 13, " a@x\n", 6);
    scan(&h, big, 1000);
    ok(msghdr_delivered_to(&h, "a@x"), "(the same line, short, is)");
  }
  msghdr_free(&h);
  return done_testing();
}
