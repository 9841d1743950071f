/* dkim_key.h: DKIM private keys: reading them, signing a header hash with
 * them, and the public half for the DNS record. RSA through BearSSL
 * (rsa-sha256, RSASSA-PKCS1-v1_5 with the SHA-256 OID, RFC 6376 3.3.1),
 * Ed25519 through libsodium (ed25519-sha256, RFC 8463: PureEdDSA over the
 * 32-byte SHA-256 of the canonical header). Keys are PEM: PKCS#8 "PRIVATE
 * KEY" (RSA, or Ed25519 as RFC 8410 writes it) or PKCS#1 "RSA PRIVATE KEY"
 * (opendkim-genkey's), so keys move to and from OpenSSL and OpenDKIM. */
#ifndef TERN_DKIM_KEY_H
#define TERN_DKIM_KEY_H

#include <stddef.h>
#include <bearssl.h>
#include <skalibs/stralloc.h>

#define DKIM_KEY_RSA 1
#define DKIM_KEY_ED25519 2
/* The longest signature: RSA-4096, BearSSL's largest. */
#define DKIM_SIG_MAX 512
/* RSA keys shorter than this are refused: verifiers ignore their
 * signatures (RFC 8301 section 3.2). */
#define DKIM_RSA_MIN 1024

typedef struct dkim_key_s dkim_key;
struct dkim_key_s
{
  int type;
  br_skey_decoder_context dc;   /* RSA: the key points into it */
  unsigned char ed[64];         /* Ed25519: libsodium's form (seed, public key) */
};

/* Reads the one private key of pem[0..n). 1 ok; 0 with *why a reason. */
extern int dkim_key_parse(dkim_key *k, char const *pem, size_t n, char const **why);

extern char const *dkim_key_alg(dkim_key const *k);   /* a=: "rsa-sha256", "ed25519-sha256" */
extern char const *dkim_key_kind(dkim_key const *k);  /* k=: "rsa", "ed25519" */
extern size_t dkim_key_siglen(dkim_key const *k);     /* bytes of a signature */
extern unsigned int dkim_key_bits(dkim_key const *k);

/* Signs the 32-byte hash into sig (dkim_key_siglen bytes). 1 ok, 0 failed. */
extern int dkim_key_sign(dkim_key const *k, unsigned char const *hash, unsigned char *sig);

/* Appends the TXT record to publish at SELECTOR._domainkey.DOMAIN:
 * "v=DKIM1; k=rsa; p=..." (p: the SubjectPublicKeyInfo, as every signer
 * publishes it) or "v=DKIM1; k=ed25519; p=..." (the 32 raw bytes, RFC
 * 8463). 1 ok, 0 out of memory or a broken key. */
extern int dkim_key_record(stralloc *out, dkim_key const *k);

extern void dkim_key_wipe(dkim_key *k);

#endif
