/* tls.h: BearSSL helpers shared by tern-tlsd and tern-remote: PEM key and
 * certificate loading, and names for versions, cipher suites and errors. */
#ifndef TERN_TLS_H
#define TERN_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>
#include <skalibs/stralloc.h>

/* A private key (EC or RSA). The decoded key points into the decoder, so the
 * struct must stay alive (and in place) as long as the key is used. */
typedef struct tls_key_s tls_key;
struct tls_key_s
{
  br_skey_decoder_context dc;
};

/* A certificate chain, leaf first; the DER bytes live in store. */
typedef struct tls_chain_s tls_chain;
struct tls_chain_s
{
  br_x509_certificate *certs;
  size_t n;
  unsigned int issuer_key_type;  /* BR_KEYTYPE_EC or _RSA: who signed the leaf */
  unsigned int leaf_key_type;    /* the leaf's own key type */
  stralloc store;
};
#define TLS_CHAIN_ZERO { .certs = 0, .n = 0, .issuer_key_type = 0, .leaf_key_type = 0, .store = STRALLOC_ZERO }

/* Every PEM object in s[0..len) whose name is name (or contains it, when
 * name starts with '*'), as DER bytes appended to out, each preceded by its
 * length as a 4-byte big-endian number. Returns the number of objects, or -1
 * when the text is not valid PEM or out of memory (errno EINVAL / ENOMEM). */
extern int tls_pem_objects(stralloc *out, char const *s, size_t len, char const *name);

/* Loads a PEM private key (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA
 * PRIVATE KEY") from path. 1 ok; 0 on failure with *why set to a reason, or
 * NULL when errno tells (a system error). The file's bytes are wiped from
 * memory before returning. */
extern int tls_key_load(tls_key *k, char const *path, char const **why);
extern int tls_key_type(tls_key const *k);   /* BR_KEYTYPE_EC or _RSA */

/* Loads a PEM certificate chain from path. Same conventions. */
extern int tls_chain_load(tls_chain *c, char const *path, char const **why);
extern void tls_chain_free(tls_chain *c);

/* Sets up a full server context (all suites for the key's type, TLS 1.2
 * only: narrow them with tls_suites_apply) on buf. 1 ok, 0 when key and
 * certificate do not go together. */
extern int tls_server_init(br_ssl_server_context *sc, tls_key const *k, tls_chain const *c, unsigned char *buf, size_t buflen);

/* The cipher suites to offer, from a control file (tern-tlsd:
 * control/tlsciphers; tern-remote: control/tlsciphersremote). Missing or
 * empty: the default, forward-secret AEAD suites only (ECDHE with AES-GCM
 * or ChaCha20-Poly1305; the key's type picks ECDSA or RSA). Otherwise one
 * OpenSSL-style name per line (tls_cipher_name's), in order of preference,
 * or the single word "legacy": everything BearSSL has, CBC, RSA key exchange
 * and 3DES included, for peers that know nothing better. */
#define TLS_SUITES_MAX 32
typedef struct tls_suites_s tls_suites;
struct tls_suites_s
{
  uint16_t id[TLS_SUITES_MAX];
  size_t n;                      /* 0: legacy, the engine's own full list */
};

/* Loads control/name into s. 1 ok; 0 a bad file, why (NUL-terminated)
 * says what is wrong; -1 read error (errno). */
extern int tls_suites_load(tls_suites *s, char const *name, stralloc *why);
/* The default list, as a missing file gives it. */
extern void tls_suites_default(tls_suites *s);
/* Sets the engine's suites (after br_ssl_*_init_full, before the reset). */
extern void tls_suites_apply(br_ssl_engine_context *eng, tls_suites const *s);

/* Names, for logs, Received lines and the UCSPI-TLS environment. */
extern char const *tls_version_name(unsigned int version);          /* "TLSv1.2" */
extern char const *tls_cipher_name(uint16_t suite);                 /* OpenSSL's names */
/* The suite an OpenSSL-style name stands for: 1 found, 0 unknown. */
extern int tls_cipher_id(char const *name, uint16_t *suite);
/* A sentence for a BearSSL error code (br_ssl_engine_last_error()), including
 * alerts sent and received; writes into buf if needed, cut to buflen (192
 * bytes hold the longest). */
extern char const *tls_error_text(int err, char *buf, size_t buflen);

/* Fills s with the UCSPI-TLS info block for a finished handshake:
 * "SSL_PROTOCOL=...\0SSL_CIPHER=...\0[SSL_TLS_SNI_SERVERNAME=...\0]" (without
 * the final terminating NUL). 1 ok, 0 out of memory. */
extern int tls_info(stralloc *s, br_ssl_engine_context const *eng);

#endif
