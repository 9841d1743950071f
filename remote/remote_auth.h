/* remote_auth.h: the client side of SMTP AUTH PLAIN and LOGIN (RFC 4954). */
#ifndef TERN_REMOTE_AUTH_H
#define TERN_REMOTE_AUTH_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Appends the base64 (RFC 4648, padded) of s[0..n) to out, NUL-terminated
 * (the NUL not counted in out->len). 1 ok, 0 out of memory. */
extern int auth_b64(stralloc *out, char const *s, size_t n);

/* out = base64("\0" user "\0" pass), the PLAIN initial response. */
extern int auth_plain(stralloc *out, char const *user, char const *pass);

#endif
