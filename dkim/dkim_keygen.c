/* dkim_keygen.c: new DKIM keys as PKCS#8 PEM (dkim_keygen.h). */
#include <bearssl.h>
#include <sodium.h>
#include <skalibs/random.h>
#include "dkim_der.h"
#include "dkim_keygen.h"

/* Appends the PEM of der[0..n) under "PRIVATE KEY". */
static int pem(stralloc *out, unsigned char const *der, size_t n)
{
  size_t len = br_pem_encode(0, der, n, "PRIVATE KEY", BR_PEM_LINE64);
  if (!stralloc_readyplus(out, len + 1)) return 0;
  out->len += br_pem_encode(out->s + out->len, der, n, "PRIVATE KEY", BR_PEM_LINE64);
  return 1;
}

int dkim_keygen_rsa(stralloc *out, unsigned int bits)
{
  static unsigned char kp[BR_RSA_KBUF_PRIV_SIZE(4096)], kq[BR_RSA_KBUF_PUB_SIZE(4096)], d[512];
  br_hmac_drbg_context rng;
  br_rsa_private_key sk;
  br_rsa_public_key pk;
  stralloc der = STRALLOC_ZERO;
  char seed[48];
  size_t dlen, n;
  int ok = 0;
  if (bits < 1024 || bits > 4096) return 0;
  random_buf(seed, sizeof seed);
  br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
  if (!br_rsa_keygen_get_default()(&rng.vtable, &sk, kp, &pk, kq, bits, 65537)) goto end;
  dlen = br_rsa_compute_privexp_get_default()(d, &sk, 65537);
  if (!dlen) goto end;
  n = br_encode_rsa_pkcs8_der(0, &sk, &pk, d, dlen);
  if (!stralloc_ready(&der, n)) goto end;
  der.len = br_encode_rsa_pkcs8_der(der.s, &sk, &pk, d, dlen);
  ok = der.len == n && pem(out, (unsigned char *)der.s, der.len);
 end:
  if (der.s) sodium_memzero(der.s, der.a);
  stralloc_free(&der);
  sodium_memzero(kp, sizeof kp);
  sodium_memzero(d, sizeof d);
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(&rng, sizeof rng);
  return ok;
}

int dkim_keygen_ed25519(stralloc *out)
{
  unsigned char seed[32];
  stralloc der = STRALLOC_ZERO;
  int ok;
  random_buf((char *)seed, sizeof seed);
  ok = dkim_der_ed25519_pkcs8(&der, seed) && pem(out, (unsigned char *)der.s, der.len);
  if (der.s) sodium_memzero(der.s, der.a);
  stralloc_free(&der);
  sodium_memzero(seed, sizeof seed);
  return ok;
}
