/* b64.h: strict base64 decoding (RFC 4648), for SMTP AUTH responses
 * (skalibs 2.13 has no base64). */
#ifndef TERN_B64_H
#define TERN_B64_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Appends the bytes that s[0..len) encodes to out. Strict: only the base64
 * alphabet, a length that is a multiple of 4, '=' padding only at the end,
 * unused bits zero. 1 ok; 0 malformed (errno EINVAL) or out of memory
 * (ENOMEM); out is left as it was on failure. */
extern int b64_decode(stralloc *out, char const *s, size_t len);

#endif
