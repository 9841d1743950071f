/* smtp_starttls.h: STARTTLS (RFC 3207) for tern-smtpd over UCSPI-TLS
 * (tern-tlsd gives the fds; docs/tls.md), and TLS from the first byte
 * (tern-tlsd -i). */
#ifndef TERN_SMTP_STARTTLS_H
#define TERN_SMTP_STARTTLS_H

#include <skalibs/stralloc.h>
#include "ucspitls.h"
#include "smtp_cmd.h"
#include "smtp_conn.h"
#include "smtp_io.h"

typedef struct smtp_tls_s smtp_tls;
struct smtp_tls_s
{
  int on;                        /* the session runs over TLS */
  int starttls;                  /* STARTTLS offered (under tern-tlsd, not yet TLS) */
  ucspitls u;
  int ucspi;                     /* u came from the environment: ours to close at the end */
  stralloc info;                 /* "TLSv1.2 CIPHER", for the Received line */
};
#define SMTP_TLS_ZERO { .on = 0, .starttls = 0, .ucspi = 0, .info = STRALLOC_ZERO }

/* Looks at the environment for one session: TLS already on (tern-tlsd -i
 * sets SSL_PROTOCOL) or offered (SSLCTLFD...). Nothing of a pooled
 * worker's previous session is kept. 1 ok, 0 out of memory. */
extern int smtp_tls_init(smtp_tls *t);

/* The session is over: closes the UCSPI-TLS fds it still holds (a pooled
 * worker lives on; nothing may reach the next session). */
extern void smtp_tls_end(smtp_tls *t);

/* The EHLO keyword to add ("STARTTLS"), or 0. t may be 0 (no TLS). */
extern char const *smtp_tls_keyword(smtp_tls const *t);

/* The STARTTLS verb: replies, and on success switches the client's fds
 * (io) to TLS and returns SMTP_R_TLS (t->on and t->info are then set);
 * otherwise SMTP_R_ERROR or SMTP_R_QUIT. t may be 0. */
extern int smtp_starttls_command(smtp_tls *t, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c);

#endif
