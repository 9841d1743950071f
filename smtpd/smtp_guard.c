/* smtp_guard.c: improper pipelining and the loop checks at DATA (smtp_guard.h). */
#include <string.h>
#include "envelope.h"
#include "users.h"
#include "smtp_guard.h"
#include "smtp_log.h"

/* Bytes of the unexpected input shown in the log line. */
#define GUARD_SAMPLE 64

/* RFC 2920 lets a client send the next commands right after the final dot,
 * and nothing at all may follow DATA before the 354. A smuggled message
 * needs one of the two: commands or text that arrive before the reply they
 * depend on. Postfix 3.9 refuses both by default (smtpd_forbid_unauth_
 * pipelining); so do we, for clients we do not trust. */
char const *smtp_guard_pipelining(smtp_io *io, smtp_conn const *cn, char const *when)
{
  char sample[GUARD_SAMPLE + 1];
  size_t n, i;
  if (!cn->conf->strictpipelining || cn->relayclient || cn->authuser) return 0;
  if (!smtp_io_early(io)) return 0;
  n = smtp_io_sample(io, sample, GUARD_SAMPLE);
  for (i = 0; i < n; i++)
    if ((unsigned char)sample[i] < 32 || (unsigned char)sample[i] > 126) sample[i] = '?';
  sample[n] = 0;
  {
    char const *v[6] = { " ip=", cn->remoteip, " improper pipelining after ", when, ": ", sample };
    smtp_log(v, 6);
  }
  smtp_io_discard(io);
  return !strcmp(when, "DATA")
    ? "554 5.5.0 Improper pipelining: message text sent before the 354 reply; closing connection"
    : "554 5.5.0 Improper pipelining: commands sent after the end of data before its reply; message refused, closing connection";
}

/* One recipient of the envelope: does tern-local's loop check fail it? */
static int loops(relay const *r, msghdr const *h, char const *rcpt, stralloc *canon)
{
  if (!users_is_local(&r->locals, rcpt)) return 0;
  if (!users_canon(canon, rcpt)) return 0;
  return msghdr_delivered_to(h, canon->s);
}

char const *smtp_guard_loop(relay const *r, stralloc const *envelope, msghdr const *h, stralloc *sa)
{
  stralloc canon = STRALLOC_ZERO;
  size_t i;
  int found = 0;
  if (!h->dt.len) return 0;   /* no Delivered-To: the usual case, no work */
  /* the F record, then T records, each NUL-terminated */
  for (i = 0; i < envelope->len && !found; i += strlen(envelope->s + i) + 1)
    if (envelope->s[i] == 'T') found = loops(r, h, envelope->s + i + 1, &canon);
  sa->len = 0;
  if (found && (!stralloc_cats(sa, "554 5.4.6 Mail loop: this message was already delivered to ")
             || !stralloc_cats(sa, canon.s) || !stralloc_0(sa)))
    found = -1;
  stralloc_free(&canon);
  return found > 0 ? sa->s : found ? "451 4.3.0 Out of memory; try again later" : 0;
}
