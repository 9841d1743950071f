/* dkim_keygen.h: making DKIM keys (tern-dkimkey): RSA with BearSSL's
 * generator, Ed25519 with libsodium, both seeded from getrandom(). The key
 * comes out as PKCS#8 PEM ("PRIVATE KEY", 64-column lines), which OpenSSL
 * reads too (`openssl pkey -in KEY -noout -text`). */
#ifndef TERN_DKIM_KEYGEN_H
#define TERN_DKIM_KEYGEN_H

#include <skalibs/stralloc.h>

/* bits: 1024 to 4096. 1 ok, 0 failed (out of memory, or BearSSL said no). */
extern int dkim_keygen_rsa(stralloc *pem, unsigned int bits);
extern int dkim_keygen_ed25519(stralloc *pem);

#endif
