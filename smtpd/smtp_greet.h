/* smtp_greet.h: the pause of GREETDELAY ms before tern-smtpd's greeting. */
#ifndef TERN_SMTP_GREET_H
#define TERN_SMTP_GREET_H

#include "smtp_conn.h"
#include "smtp_io.h"

/* Waits conf->greetdelay ms (a RELAYCLIENT never waits): 1 greet the
 * client; 0 it spoke first (answered 554, logged) or left (io->failed):
 * end the session. */
extern int smtp_greet_wait(smtp_io *io, smtp_conn const *cn);

#endif
