/* dkim_der.h: the two DER structures BearSSL does not write for us: an RSA
 * SubjectPublicKeyInfo (RFC 5280, RFC 8017) for the p= of a DKIM record,
 * and an Ed25519 PKCS#8 private key (RFC 8410) for the key file. */
#ifndef TERN_DKIM_DER_H
#define TERN_DKIM_DER_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Appends SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING {
 * SEQUENCE { INTEGER n, INTEGER e } } }; n and e big-endian unsigned.
 * 1 ok, 0 out of memory. */
extern int dkim_der_rsa_spki(stralloc *out, unsigned char const *n, size_t nlen,
  unsigned char const *e, size_t elen);

/* The PKCS#8 encoding of an Ed25519 key is these 16 bytes, then the
 * 32-byte seed (RFC 8410 section 7; what OpenSSL writes too). */
extern unsigned char const dkim_der_ed25519_prefix[16];

/* Appends the PKCS#8 encoding of an Ed25519 key from its 32-byte seed. */
extern int dkim_der_ed25519_pkcs8(stralloc *out, unsigned char const *seed);

#endif
