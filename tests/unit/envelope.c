/* Unit tests for lib/envelope.c: the qmail-queue envelope parser. */
#include "tap.h"
#include "envelope.h"

#define S(x) x, sizeof(x) - 1

int main(void)
{
  envelope e = ENVELOPE_ZERO;
  stralloc sa = STRALLOC_ZERO;

  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0Te@f\0\0"), 1) == 1, "two recipients parse");
  is_str(e.sender, "a@b", "sender");
  is_int(envelope_nrcpt(&e), 2, "recipient count");
  is_str(envelope_rcpt(&e, 1), "e@f", "second recipient");
  ok(envelope_parse(&e, S("F\0Tc@d\0\0"), 1) == 1, "null sender parses");
  is_str(e.sender, "", "null sender is empty");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0\0message"), 0) == 1 && e.len == 11, "prefix of a queue file, length");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0\0x"), 1) == 0, "trailing byte refused when exact");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0"), 1) == 0, "missing final NUL refused");
  ok(envelope_parse(&e, S("Fa@b\0\0"), 1) == 0, "no recipient refused");
  ok(envelope_parse(&e, S("Fa@b\0T\0\0"), 1) == 0, "empty recipient refused");
  ok(envelope_parse(&e, S("Xa@b\0Tc@d\0\0"), 1) == 0, "bad sender tag refused");
  ok(envelope_parse(&e, S("Fa@b\0Xc@d\0\0"), 1) == 0, "bad recipient tag refused");
  ok(envelope_parse(&e, S("Fa@b"), 1) == 0, "truncated sender refused");
  ok(envelope_parse(&e, "", 0, 1) == 0, "empty input refused");
  {
    char big[ENVELOPE_ADDR_MAX + 20];
    memset(big, 'x', sizeof big);
    big[0] = 'F';
    big[sizeof big - 1] = 0;
    ok(envelope_parse(&e, big, sizeof big, 0) == 0, "overlong sender refused");
  }
  ok(envelope_add_sender(&sa, "s@x") && envelope_add_rcpt(&sa, "r@y") && envelope_finish(&sa), "build");
  ok(envelope_parse(&e, sa.s, sa.len, 1) == 1 && !strcmp(envelope_rcpt(&e, 0), "r@y"), "built envelope parses back");
  envelope_free(&e);
  stralloc_free(&sa);
  ok(envelope_parse(&e, S("Fa@b\0MRET=HDRS ENVID=x\0Tc@d\0NNOTIFY=NEVER\0Te@f\0\0"), 1) == 1, "M and N records parse");
  ok(e.mparams && !strcmp(e.mparams, "RET=HDRS ENVID=x"), "M record");
  ok(envelope_nrcpt(&e) == 2 && !strcmp(envelope_rparams(&e, 0), "NOTIFY=NEVER") && !envelope_rparams(&e, 1),
     "N record belongs to its recipient");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0\0"), 1) == 1 && !e.mparams && !envelope_rparams(&e, 0), "no records: none");
  ok(envelope_parse(&e, S("Fa@b\0NNOTIFY=NEVER\0Tc@d\0\0"), 1) == 0, "N before any recipient refused");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0MRET=FULL\0\0"), 1) == 0, "M after a recipient refused");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0NNOTIFY=NEVER\0NNOTIFY=NEVER\0\0"), 1) == 0, "two N records refused");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0N\0\0"), 1) == 0, "empty N refused");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0NA\nB\0\0"), 1) == 0, "control in N refused");
  ok(envelope_parse(&e, S("Fa@b\0Tc@d\0NA  B\0\0"), 1) == 0, "double blank in N refused");
  sa.len = 0;
  ok(envelope_add_sender(&sa, "s@x") && envelope_add_mparams(&sa, "") && envelope_add_rcpt(&sa, "r@y")
     && envelope_add_rparams(&sa, "NOTIFY=SUCCESS") && envelope_finish(&sa)
     && envelope_parse(&e, sa.s, sa.len, 1) == 1 && !e.mparams && !strcmp(envelope_rparams(&e, 0), "NOTIFY=SUCCESS"),
     "built with records parses back; empty params add nothing");
  envelope_free(&e);
  stralloc_free(&sa);
  return done_testing();
}
