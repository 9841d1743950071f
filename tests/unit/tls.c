/* Unit tests for lib/tls.c, lib/tlsname.c and lib/tlssuites.c: PEM objects, names, error texts, suite lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "tls.h"

#define S(x) x, sizeof(x) - 1

/* Writes control/tlsciphers under the test home with text (0: removes it). */
static void suites_file(char const *home, char const *text)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/control/tlsciphers", home);
  if (!text) { unlink(path); return; }
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void test_suites(void)
{
  char home[] = "/tmp/tern-tls-unit-XXXXXX", dir[300];
  stralloc why = STRALLOC_ZERO, many = STRALLOC_ZERO;
  tls_suites s;
  int i;
  if (!mkdtemp(home)) { ok(0, "mkdtemp"); return; }
  snprintf(dir, sizeof dir, "%s/control", home);
  mkdir(dir, 0755);
  setenv("TERN_HOME", home, 1);
  is_int(tls_suites_load(&s, "tlsciphers", &why), 1, "no control/tlsciphers: loads");
  ok(s.n == 6 && s.id[0] == BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 && s.id[5] == BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
     "the default: six ECDHE AEAD suites, AES-256-GCM first");
  for (i = 0; i < (int)s.n; i++)
    ok(strstr(tls_cipher_name(s.id[i]), "ECDHE-") == tls_cipher_name(s.id[i])
       && (strstr(tls_cipher_name(s.id[i]), "-GCM-") || strstr(tls_cipher_name(s.id[i]), "CHACHA20")),
       "default suite %s is ECDHE with GCM or ChaCha20", tls_cipher_name(s.id[i]));
  suites_file(home, "# comment\n\nlegacy\n");
  ok(tls_suites_load(&s, "tlsciphers", &why) == 1 && s.n == 0, "legacy: n 0, the engine's own list");
  suites_file(home, " AES128-SHA \nECDHE-RSA-AES128-GCM-SHA256\n");
  ok(tls_suites_load(&s, "tlsciphers", &why) == 1 && s.n == 2 && s.id[0] == BR_TLS_RSA_WITH_AES_128_CBC_SHA
     && s.id[1] == BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "a list, in its order, blanks trimmed");
  suites_file(home, "ECDHE-RSA-AES128-GCM-SHA256\nlegacy\n");
  ok(tls_suites_load(&s, "tlsciphers", &why) == 0 && strstr(why.s, "unknown cipher suite") && strstr(why.s, ": legacy"),
     "legacy among names is an unknown name (%s)", why.s);
  suites_file(home, "RC4-MD5\n");
  ok(tls_suites_load(&s, "tlsciphers", &why) == 0 && strstr(why.s, "control/tlsciphers: unknown cipher suite") && strstr(why.s, "RC4-MD5"),
     "an unknown name is refused, named (%s)", why.s);
  for (i = 0; i < TLS_SUITES_MAX + 1; i++) stralloc_cats(&many, "AES128-SHA\n");
  stralloc_0(&many);
  suites_file(home, many.s);
  ok(tls_suites_load(&s, "tlsciphers", &why) == 0 && strstr(why.s, "too many"), "more than %d names refused", TLS_SUITES_MAX);
  suites_file(home, "# only a comment\n");
  ok(tls_suites_load(&s, "tlsciphers", &why) == 1 && s.n == 6, "a file with no names: the default");
  suites_file(home, 0);
  rmdir(dir);
  rmdir(home);
  stralloc_free(&why);
  stralloc_free(&many);
}

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
  {
    uint16_t id;
    ok(tls_cipher_id("ECDHE-RSA-CHACHA20-POLY1305", &id) && id == BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "name to id");
    ok(!tls_cipher_id("ecdhe-rsa-chacha20-poly1305", &id) && !tls_cipher_id("", &id), "names are exact");
  }
  test_suites();
  return done_testing();
}
