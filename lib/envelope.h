/* envelope.h: the qmail-queue envelope, the one format that carries sender
 * and recipients between our programs and inside the queue files:
 *   F sender \0 [M params \0] T rcpt \0 [N params \0] T rcpt \0 ... \0
 * The sender may be empty (the null sender of bounces); a recipient may not.
 * M (the DSN parameters of MAIL) and N (those of the RCPT just before) are
 * our extension (lib/dsn.h); they are written only when a client gave DSN
 * parameters, so every other envelope is qmail-queue's byte for byte. */
#ifndef TERN_ENVELOPE_H
#define TERN_ENVELOPE_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

typedef struct envelope_s envelope;
struct envelope_s
{
  char const *sender;   /* points into the parsed buffer, NUL-terminated */
  genalloc rcpts;       /* of char const *, pointing into the buffer */
  char const *mparams;  /* the M record, or 0 */
  genalloc rparams;     /* of char const *: each recipient's N record, or 0 */
  size_t len;           /* bytes the envelope took, final \0 included */
};
#define ENVELOPE_ZERO { .sender = 0, .rcpts = GENALLOC_ZERO, .mparams = 0, .rparams = GENALLOC_ZERO, .len = 0 }

/* Longest address we accept anywhere (RFC 5321 path is 256 with brackets). */
#define ENVELOPE_ADDR_MAX 1024

/* Parses the envelope at the start of s. With exact, the envelope must fill
 * all n bytes; otherwise bytes may follow it (the message, in a queue file).
 * 1 ok, 0 malformed (errno EPROTO) or truncated, -1 out of memory. */
extern int envelope_parse(envelope *e, char const *s, size_t n, int exact);
extern void envelope_free(envelope *e);
#define envelope_nrcpt(e) genalloc_len(char const *, &(e)->rcpts)
#define envelope_rcpt(e, i) (genalloc_s(char const *, &(e)->rcpts)[i])
#define envelope_rparams(e, i) (genalloc_s(char const *, &(e)->rparams)[i])

/* Appends F/T records and the final \0 to sa. 1 ok, 0 out of memory. */
extern int envelope_add_sender(stralloc *sa, char const *sender);
extern int envelope_add_rcpt(stralloc *sa, char const *rcpt);
/* The M record (right after the sender) and the N record (right after its
 * recipient); nothing is added for an empty params. */
extern int envelope_add_mparams(stralloc *sa, char const *params);
extern int envelope_add_rparams(stralloc *sa, char const *params);
extern int envelope_finish(stralloc *sa);

#endif
