/* Fuzz the SMTP command parser and the MAIL/RCPT argument parser. */
#include "fuzz.h"
#include "../../smtpd/smtp_cmd.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  smtp_cmd c;
  smtp_mailargs m = SMTP_MAILARGS_ZERO;
  smtp_cmd_parse(&c, (char const *)data, size);
  FUZZ_ASSERT(c.arglen <= size);
  FUZZ_ASSERT(!c.arglen || (c.arg >= (char const *)data && c.arg + c.arglen <= (char const *)data + size));
  if (c.verb == SMTP_MAIL || c.verb == SMTP_RCPT)
  {
    char const *reply = smtp_parse_mailrcpt(&m, c.arg, c.arglen, c.verb == SMTP_RCPT);
    if (reply) FUZZ_ASSERT(reply[0] == '4' || reply[0] == '5');
  }
  addr_free(&m.a);
  return 0;
}
