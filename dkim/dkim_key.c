/* dkim_key.c: reading DKIM keys, signing, the public record (dkim_key.h). */
#include <string.h>
#include <bearssl.h>
#include <sodium.h>
#include "b64.h"
#include "tls.h"
#include "dkim_der.h"
#include "dkim_key.h"

static int wipe_fail(stralloc *sa, char const **why, char const *w)
{
  sodium_memzero(sa->s, sa->a);
  stralloc_free(sa);
  *why = w;
  return 0;
}

static int parse_rsa(dkim_key *k, char const *der, size_t n, char const **why)
{
  br_rsa_private_key const *sk;
  br_skey_decoder_init(&k->dc);
  br_skey_decoder_push(&k->dc, der, n);
  if (br_skey_decoder_last_error(&k->dc)) { *why = "the private key cannot be decoded (RSA or Ed25519 expected)"; return 0; }
  if (br_skey_decoder_key_type(&k->dc) != BR_KEYTYPE_RSA) { *why = "an EC key cannot sign DKIM (RSA or Ed25519 expected)"; return 0; }
  sk = br_skey_decoder_get_rsa(&k->dc);
  if (sk->n_bitlen < DKIM_RSA_MIN) { *why = "the RSA key is shorter than 1024 bits (verifiers ignore it: RFC 8301)"; return 0; }
  if (sk->n_bitlen > DKIM_SIG_MAX * 8) { *why = "the RSA key is longer than 4096 bits"; return 0; }
  k->type = DKIM_KEY_RSA;
  return 1;
}

int dkim_key_parse(dkim_key *k, char const *pem, size_t n, char const **why)
{
  stralloc der = STRALLOC_ZERO;
  unsigned char const *p;
  size_t len;
  int r = tls_pem_objects(&der, pem, n, "*PRIVATE KEY");
  k->type = 0;
  if (r < 0) return wipe_fail(&der, why, "not a valid PEM file");
  if (r != 1) return wipe_fail(&der, why, r ? "more than one private key in the file" : "no unencrypted private key in the file");
  p = (unsigned char const *)der.s;
  len = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
  p += 4;
  if (len == sizeof dkim_der_ed25519_prefix + 32 && !memcmp(p, dkim_der_ed25519_prefix, sizeof dkim_der_ed25519_prefix))
  {
    unsigned char pk[32];
    if (sodium_init() < 0 || crypto_sign_ed25519_seed_keypair(pk, k->ed, p + sizeof dkim_der_ed25519_prefix) < 0)
      return wipe_fail(&der, why, "libsodium cannot use the Ed25519 key");
    k->type = DKIM_KEY_ED25519;
  }
  else if (!parse_rsa(k, (char const *)p, len, why)) return wipe_fail(&der, why, *why);
  sodium_memzero(der.s, der.a);
  stralloc_free(&der);
  return 1;
}

char const *dkim_key_alg(dkim_key const *k)
{
  return k->type == DKIM_KEY_RSA ? "rsa-sha256" : "ed25519-sha256";
}

char const *dkim_key_kind(dkim_key const *k)
{
  return k->type == DKIM_KEY_RSA ? "rsa" : "ed25519";
}

unsigned int dkim_key_bits(dkim_key const *k)
{
  return k->type == DKIM_KEY_RSA ? br_skey_decoder_get_rsa(&k->dc)->n_bitlen : 256;
}

size_t dkim_key_siglen(dkim_key const *k)
{
  return k->type == DKIM_KEY_RSA ? (dkim_key_bits(k) + 7) / 8 : crypto_sign_ed25519_BYTES;
}

int dkim_key_sign(dkim_key const *k, unsigned char const *hash, unsigned char *sig)
{
  if (k->type == DKIM_KEY_ED25519)
    return crypto_sign_ed25519_detached(sig, 0, hash, 32, k->ed) == 0;
  if (k->type != DKIM_KEY_RSA) return 0;
  return br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, 32, br_skey_decoder_get_rsa(&k->dc), sig) == 1;
}

/* Does e go with the private key (n is its modulus)? A signature made with
 * the private key must verify with (n, e). */
static int rsa_e_fits(dkim_key const *k, unsigned char *n, size_t nlen, uint32_t e)
{
  static unsigned char const probe[32] = "tern-dkimkey public exponent";
  unsigned char sig[DKIM_SIG_MAX], out[32], eb[4] = { e >> 24, e >> 16, e >> 8, e };
  br_rsa_public_key pk = { n, nlen, eb, 4 };
  return e && dkim_key_sign(k, probe, sig)
      && br_rsa_pkcs1_vrfy_get_default()(sig, nlen, BR_HASH_OID_SHA256, 32, &pk, out)
      && !memcmp(out, probe, 32);
}

/* The SubjectPublicKeyInfo of the RSA key. BearSSL's decoder keeps only
 * the private parts: the modulus is recomputed; the exponent too when the
 * primes allow it (keys BearSSL made), else it is the usual one that fits
 * (OpenSSL's and OpenDKIM's keys use 65537). */
static int rsa_spki(stralloc *out, dkim_key const *k)
{
  static uint32_t const usual[] = { 0, 65537, 3, 17, 5 };
  br_rsa_private_key const *sk = br_skey_decoder_get_rsa(&k->dc);
  unsigned char n[DKIM_SIG_MAX], e[4];
  size_t nlen = br_rsa_compute_modulus_get_default()(0, sk), i;
  uint32_t ev = 0;
  if (!nlen || nlen > sizeof n) return 0;
  br_rsa_compute_modulus_get_default()(n, sk);
  for (i = 0; i < sizeof usual / sizeof *usual && !ev; i++)
  {
    uint32_t c = i ? usual[i] : br_rsa_compute_pubexp_get_default()(sk);
    if (rsa_e_fits(k, n, nlen, c)) ev = c;
  }
  if (!ev) return 0;
  e[0] = ev >> 24; e[1] = ev >> 16; e[2] = ev >> 8; e[3] = ev;
  return dkim_der_rsa_spki(out, n, nlen, e, 4);
}

int dkim_key_record(stralloc *out, dkim_key const *k)
{
  stralloc raw = STRALLOC_ZERO;
  int ok;
  if (k->type == DKIM_KEY_ED25519) ok = stralloc_catb(&raw, (char const *)k->ed + 32, 32);
  else ok = k->type == DKIM_KEY_RSA && rsa_spki(&raw, k);
  ok = ok && stralloc_cats(out, "v=DKIM1; k=") && stralloc_cats(out, dkim_key_kind(k))
     && stralloc_cats(out, "; p=") && b64_encode(out, raw.s, raw.len);
  stralloc_free(&raw);
  return ok;
}

void dkim_key_wipe(dkim_key *k)
{
  sodium_memzero(k, sizeof *k);
}
