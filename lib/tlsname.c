/* tlsname.c: names for TLS versions, cipher suites and BearSSL errors (logs, Received, UCSPI-TLS). */
#include <string.h>
#include <bearssl.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "tls.h"

char const *tls_version_name(unsigned int version)
{
  switch (version)
  {
    case BR_TLS12: return "TLSv1.2";
    case BR_TLS11: return "TLSv1.1";
    case BR_TLS10: return "TLSv1";
    case BR_SSL30: return "SSLv3";
    default: return "unknown";
  }
}

static struct { uint16_t id; char const *name; } const suites[] =
{
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256" },
  { BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305" },
  { BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384" },
  { BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256" },
  { BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM, "ECDHE-ECDSA-AES128-CCM" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM, "ECDHE-ECDSA-AES256-CCM" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, "ECDHE-ECDSA-AES128-CCM8" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8, "ECDHE-ECDSA-AES256-CCM8" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, "ECDHE-ECDSA-AES256-SHA384" },
  { BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256" },
  { BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, "ECDHE-RSA-AES256-SHA384" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA" },
  { BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA" },
  { BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA" },
  { BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA" },
  { BR_TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256" },
  { BR_TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384" },
  { BR_TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256" },
  { BR_TLS_RSA_WITH_AES_256_CBC_SHA256, "AES256-SHA256" },
  { BR_TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA" },
  { BR_TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA" },
  { BR_TLS_RSA_WITH_3DES_EDE_CBC_SHA, "DES-CBC3-SHA" },
  { BR_TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-RSA-DES-CBC3-SHA" },
  { BR_TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-ECDSA-DES-CBC3-SHA" },
};

char const *tls_cipher_name(uint16_t suite)
{
  size_t i;
  for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
    if (suites[i].id == suite) return suites[i].name;
  return "unknown";
}

int tls_cipher_id(char const *name, uint16_t *suite)
{
  size_t i;
  for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
    if (!strcmp(suites[i].name, name)) { *suite = suites[i].id; return 1; }
  return 0;
}

static struct { int code; char const *text; } const errors[] =
{
  { BR_ERR_OK, "no error" },
  { BR_ERR_BAD_PARAM, "bad parameter" },
  { BR_ERR_BAD_STATE, "bad state" },
  { BR_ERR_UNSUPPORTED_VERSION, "no protocol version in common (we speak TLS 1.2; a TLS 1.3-only client?)" },
  { BR_ERR_BAD_VERSION, "the client changed protocol version" },
  { BR_ERR_TOO_LARGE, "record too large" },
  { BR_ERR_BAD_MAC, "bad record MAC" },
  { BR_ERR_NO_RANDOM, "no random source" },
  { BR_ERR_UNKNOWN_TYPE, "unknown record type (not TLS?)" },
  { BR_ERR_UNEXPECTED, "unexpected message" },
  { BR_ERR_BAD_CCS, "bad ChangeCipherSpec" },
  { BR_ERR_BAD_ALERT, "bad alert" },
  { BR_ERR_BAD_HANDSHAKE, "bad handshake message" },
  { BR_ERR_OVERSIZED_ID, "oversized session id" },
  { BR_ERR_BAD_CIPHER_SUITE, "bad cipher suite" },
  { BR_ERR_BAD_COMPRESSION, "bad compression" },
  { BR_ERR_BAD_FRAGLEN, "bad fragment length" },
  { BR_ERR_BAD_SECRENEG, "bad secure renegotiation" },
  { BR_ERR_EXTRA_EXTENSION, "unexpected extension" },
  { BR_ERR_BAD_SNI, "bad server name" },
  { BR_ERR_BAD_HELLO_DONE, "bad ServerHelloDone" },
  { BR_ERR_LIMIT_EXCEEDED, "limit exceeded" },
  { BR_ERR_BAD_FINISHED, "bad Finished message" },
  { BR_ERR_RESUME_MISMATCH, "session resumption mismatch" },
  { BR_ERR_INVALID_ALGORITHM, "invalid algorithm" },
  { BR_ERR_BAD_SIGNATURE, "bad signature" },
  { BR_ERR_WRONG_KEY_USAGE, "wrong key usage" },
  { BR_ERR_NO_CLIENT_AUTH, "no client certificate" },
  { BR_ERR_IO, "connection closed without close_notify" },
};

static char const *alert_name(int a)
{
  switch (a)
  {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 112: return "unrecognized_name";
    default: return "alert";
  }
}

/* Appends s to the NUL-terminated text in buf, cutting it to fit. */
static void cat(char *buf, size_t buflen, char const *s)
{
  size_t n = strlen(buf), k = strlen(s);
  if (n + 1 >= buflen) return;
  if (k > buflen - n - 1) k = buflen - n - 1;
  memcpy(buf + n, s, k);
  buf[n + k] = 0;
}

/* "the peer sent the fatal alert 70 (protocol_version): ..." */
static char const *alert_text(int err, char *buf, size_t buflen)
{
  int sent = err >= BR_ERR_SEND_FATAL_ALERT;
  int a = err - (sent ? BR_ERR_SEND_FATAL_ALERT : BR_ERR_RECV_FATAL_ALERT);
  char num[UINT_FMT];
  if (!buflen) return sent ? "we sent a fatal alert" : "the peer sent a fatal alert";
  num[uint_fmt(num, (unsigned int)a)] = 0;
  buf[0] = 0;
  cat(buf, buflen, sent ? "we sent the fatal alert " : "the peer sent the fatal alert ");
  cat(buf, buflen, num);
  cat(buf, buflen, " (");
  cat(buf, buflen, alert_name(a));
  cat(buf, buflen, ")");
  if (a == 70 || (sent && a == 40))
    cat(buf, buflen, ": no protocol version or cipher suite in common (we speak TLS 1.2; a TLS 1.3-only client?)");
  return buf;
}

char const *tls_error_text(int err, char *buf, size_t buflen)
{
  size_t i;
  if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT + 256) return alert_text(err, buf, buflen);
  for (i = 0; i < sizeof errors / sizeof errors[0]; i++)
    if (errors[i].code == err) return errors[i].text;
  return "TLS error";
}

static int info_add(stralloc *s, char const *name, char const *value)
{
  return stralloc_cats(s, name) && stralloc_catb(s, "=", 1) && stralloc_cats(s, value) && stralloc_catb(s, "", 1);
}

int tls_info(stralloc *s, br_ssl_engine_context const *eng)
{
  br_ssl_session_parameters pp;
  char const *sni = br_ssl_engine_get_server_name(eng);
  br_ssl_engine_get_session_parameters(eng, &pp);
  if (!info_add(s, "SSL_PROTOCOL", tls_version_name(br_ssl_engine_get_version(eng)))) return 0;
  if (!info_add(s, "SSL_CIPHER", tls_cipher_name(pp.cipher_suite))) return 0;
  /* The name is the client's: keep it out of the environment unless it is
   * a plain host name. */
  if (sni && sni[0] && strspn(sni, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(sni))
    if (!info_add(s, "SSL_TLS_SNI_SERVERNAME", sni)) return 0;
  return 1;
}
