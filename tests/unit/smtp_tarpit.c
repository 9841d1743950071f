/* Unit tests for smtpd/smtp_tarpit.c: the wait before each refusal
 * (count, linear growth, the caps, the knobs that turn it off). */
#include "tap.h"
#include "../../smtpd/smtp_tarpit.h"

int main(void)
{
  smtp_conf c = SMTP_CONF_ZERO;
  unsigned int i, sum = 0;
  c.tarpitcount = 5; c.tarpitdelay = 1; c.tarpitmaxdelay = 30; c.timeout = 1200;
  for (i = 1; i <= 5; i++) sum += smtp_tarpit_delay(&c, i);
  is_int(sum, 0, "the first tarpitcount refusals do not wait");
  is_int(smtp_tarpit_delay(&c, 6), 1, "the 6th waits tarpitdelay");
  is_int(smtp_tarpit_delay(&c, 7), 2, "the 7th twice that");
  is_int(smtp_tarpit_delay(&c, 8), 3, "the 8th three times");
  is_int(smtp_tarpit_delay(&c, 100), 30, "capped at tarpitmaxdelay");
  is_int(smtp_tarpit_delay(&c, 4000000000U), 30, "no overflow far past the count");
  c.tarpitdelay = 7;
  is_int(smtp_tarpit_delay(&c, 7), 14, "tarpitdelay is the step");
  c.tarpitdelay = 3600; c.tarpitmaxdelay = 3600;
  is_int(smtp_tarpit_delay(&c, 1000), 1200, "never longer than the session timeout");
  c.timeout = 10;
  is_int(smtp_tarpit_delay(&c, 6), 10, "nor the short timeout under stress");
  c.timeout = 1200; c.tarpitdelay = 0;
  is_int(smtp_tarpit_delay(&c, 50), 0, "tarpitdelay 0: no wait");
  c.tarpitdelay = 1; c.tarpitcount = 0;
  is_int(smtp_tarpit_delay(&c, 50), 0, "tarpitcount 0: no tarpit");
  return done_testing();
}
