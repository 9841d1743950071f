/* Unit tests for lib/tls.c and lib/tlsname.c: PEM objects, names, error texts. */
#include <errno.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "tls.h"

#define S(x) x, sizeof(x) - 1

int main(void)
{
  stralloc sa = STRALLOC_ZERO;
  char buf[128];
  /* "aGVsbG8=" is "hello", "d29ybGQ=" is "world" */
  static char const two[] =
    "junk before\n-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n"
    "-----BEGIN PRIVATE KEY-----\nd29ybGQ=\n-----END PRIVATE KEY-----";
  is_int(tls_pem_objects(&sa, S(two), "CERTIFICATE"), 1, "one certificate among two objects");
  ok(sa.len == 9 && !memcmp(sa.s, "\0\0\0\5hello", 9), "length-prefixed DER bytes");
  sa.len = 0;
  is_int(tls_pem_objects(&sa, S(two), "*PRIVATE KEY"), 1, "key found without a final newline");
  ok(sa.len == 9 && !memcmp(sa.s + 4, "world", 5), "key bytes");
  sa.len = 0;
  is_int(tls_pem_objects(&sa, S("-----BEGIN ENCRYPTED PRIVATE KEY-----\nd29ybGQ=\n-----END ENCRYPTED PRIVATE KEY-----\n"), "*PRIVATE KEY"), 0, "encrypted keys are not taken");
  is_int(tls_pem_objects(&sa, S("-----BEGIN CERTIFICATE-----\naGVsbG8=\n"), "CERTIFICATE"), -1, "unterminated object refused");
  is_int(tls_pem_objects(&sa, S("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"), "CERTIFICATE"), -1, "bad base64 refused");
  ok(errno == EINVAL && sa.len == 0, "EINVAL, nothing appended");
  is_str(tls_version_name(BR_TLS12), "TLSv1.2", "version name");
  is_str(tls_cipher_name(BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384), "ECDHE-ECDSA-AES256-GCM-SHA384", "cipher name");
  is_str(tls_cipher_name(0x1301), "unknown", "unknown cipher");
  ok(strstr(tls_error_text(BR_ERR_RECV_FATAL_ALERT + 70, buf, sizeof buf), "alert 70 (protocol_version)") != 0, "received alert named");
  ok(strstr(tls_error_text(BR_ERR_SEND_FATAL_ALERT + 40, buf, sizeof buf), "TLS 1.3-only") != 0, "handshake_failure hints at TLS 1.3");
  is_str(tls_error_text(BR_ERR_BAD_MAC, buf, sizeof buf), "bad record MAC", "plain error");
  {
    char small[20];
    memset(small, 'x', sizeof small);
    tls_error_text(BR_ERR_SEND_FATAL_ALERT + 40, small, 12);
    ok(strlen(small) == 11 && small[12] == 'x', "text cut to the buffer, nothing written past it");
  }
  return done_testing();
}
