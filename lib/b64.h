/* b64.h: base64 (RFC 4648): strict decoding for SMTP AUTH responses,
 * encoding for AUTH (tern-remote) and DKIM (tern-dkimsign, tern-dkimkey).
 * skalibs 2.13 has no base64. */
#ifndef TERN_B64_H
#define TERN_B64_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Appends the bytes that s[0..len) encodes to out. Strict: only the base64
 * alphabet, a length that is a multiple of 4, '=' padding only at the end,
 * unused bits zero. 1 ok; 0 malformed (errno EINVAL) or out of memory
 * (ENOMEM); out is left as it was on failure. */
extern int b64_decode(stralloc *out, char const *s, size_t len);

/* Appends the base64 text of s[0..n) (with '=' padding, no line breaks)
 * to out and NUL-terminates it (the NUL is not counted in out->len).
 * 1 ok, 0 out of memory (out is then left as it was). */
extern int b64_encode(stralloc *out, char const *s, size_t n);

#endif
