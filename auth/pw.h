/* pw.h: password checking and editing for tern-checkpassword and tern-passwd
 * (crypt(3) from libxcrypt; the checkpassword input format; users file edits).
 *
 * SECURITY: these functions handle clear-text passwords: callers wipe them
 * (pw_wipe) as soon as they are done. */
#ifndef TERN_PW_H
#define TERN_PW_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* The checkpassword interface: at most this many bytes on fd 3. */
#define PW_CHECK_MAX 512
/* Longest password tern-passwd accepts (leaves room for the name in 512). */
#define PW_PASS_MAX 256

/* Splits checkpassword input "user\0password\0timestamp\0" (the timestamp
 * and its NUL may be missing). 1 ok, 0 malformed (no NUL after the user or
 * the password, or trailing bytes after the timestamp's NUL). */
extern int pw_split(char const *s, size_t len, char const **user, char const **pass);

/* Does pass match the crypt(3) hash? Runs the hash even for an account that
 * cannot log in (hash empty, '!' or '*...') or an unknown user (hash 0), so
 * that the time taken says nothing about which it was. 1 match, 0 no match,
 * -1 the hash cannot be used (errno EINVAL: a corrupt hash) */
extern int pw_verify(char const *hash, char const *pass);

/* sa = crypt(3) hash of pass with a fresh salt: yescrypt, or SHA-512-crypt
 * where yescrypt is missing. NUL-terminated. 1 ok, 0 error (errno). */
extern int pw_hash(stralloc *sa, char const *pass);

/* Compares a and b in time that depends on their lengths only. */
extern int pw_equal(char const *a, size_t alen, char const *b, size_t blen);

/* Overwrites n bytes at p in a way the compiler keeps. */
extern void pw_wipe(void *p, size_t n);

/* Edits the text of a users file (src, len) into out. op is 'a' (add a
 * line "address:hash:maildir"), 'c' (change the hash of address) or 'r'
 * (remove address). Comments, blank lines and other accounts are kept
 * byte for byte. 1 ok; 0 refused (*why: already there, no such user, bad
 * line); -1 out of memory. */
extern int pw_users_edit(stralloc *out, char const *src, size_t len, char op,
                         char const *address, char const *hash, char const *maildir, char const **why);

/* Makes the Maildir of an account (relative to $TERN_HOME unless absolute)
 * with cur/, new/ and tmp/, keeping what exists. Each directory made is
 * mode 700 and, run as root, takes the owner of the one it is made in.
 * where = the path reached, NUL-terminated (for the error message);
 * *made = 1 when something was made. 1 ok, -1 error (errno; ELOOP: a
 * symbolic link that is not root's to follow). */
extern int pw_maildir_make(char const *maildir, stralloc *where, int *made);

#endif
