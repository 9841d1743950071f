/* tlssuites.c: which cipher suites tern-tlsd and tern-remote offer (tls.h: tls_suites_*). */
#include <errno.h>
#include <string.h>
#include <bearssl.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "tls.h"

/* Forward secrecy and AEAD only: what nmap's ssl-enum-ciphers grades A,
 * and what every client from the last decade speaks. Server order: the
 * 256-bit AES first, ChaCha20 (fast without AES instructions), then AES-128. */
static uint16_t const defaults[] =
{
  BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
  BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
};

void tls_suites_default(tls_suites *s)
{
  s->n = sizeof defaults / sizeof *defaults;
  memcpy(s->id, defaults, sizeof defaults);
}

static int bad(stralloc *why, char const *name, char const *what, char const *line)
{
  why->len = 0;
  if (!stralloc_cats(why, "control/") || !stralloc_cats(why, name) || !stralloc_cats(why, ": ")
   || !stralloc_cats(why, what) || !stralloc_cats(why, line) || !stralloc_0(why)) why->len = 0;
  return 0;
}

int tls_suites_load(tls_suites *s, char const *name, stralloc *why)
{
  stralloc lines = STRALLOC_ZERO;
  size_t pos = 0;
  int r = control_readlines(&lines, name), ok = 1;
  if (r < 0) { stralloc_free(&lines); return -1; }
  tls_suites_default(s);
  if (!r) { stralloc_free(&lines); return 1; }
  s->n = 0;
  if (r == 1 && !strcmp(lines.s, "legacy")) { stralloc_free(&lines); return 1; }
  while (ok && pos < lines.len)
  {
    char const *line = lines.s + pos;
    uint16_t id;
    pos += strlen(line) + 1;
    if (!tls_cipher_id(line, &id)) ok = bad(why, name, "unknown cipher suite (OpenSSL's names, one per line, or legacy): ", line);
    else if (s->n >= TLS_SUITES_MAX) ok = bad(why, name, "too many cipher suites at ", line);
    else s->id[s->n++] = id;
  }
  stralloc_free(&lines);
  return ok;
}

void tls_suites_apply(br_ssl_engine_context *eng, tls_suites const *s)
{
  if (s->n) br_ssl_engine_set_suites(eng, s->id, s->n);
}
