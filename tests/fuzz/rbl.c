/* Fuzz what tern-rblsmtpd takes from outside: TCPREMOTEIP, RBLSMTPD and the
 * TXT text it shows to the client (which must stay one printable line). */
#include "fuzz.h"
#include "../../smtpd/rbl_lookup.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char s[300];
  ip46 ip;
  stralloc sa = STRALLOC_ZERO;
  rbl_decision dec = RBL_DECISION_ZERO;
  size_t n = size < sizeof s - 1 ? size : sizeof s - 1, i;
  memcpy(s, data, n);
  s[n] = 0;
  (void)rbl_parse_ip(s, &ip);
  (void)rbl_from_env(&dec, s);
  if (rbl_clean_text(&sa, (char const *)data, size))
    for (i = 0; i < sa.len; i++)
      FUZZ_ASSERT(sa.s[i] != '\r' && sa.s[i] != '\n' && sa.s[i] != 0);
  stralloc_free(&sa);
  stralloc_free(&dec.text);
  return 0;
}
