/* smtp_tarpit.h: the tarpit of tern-smtpd: after control/tarpitcount
 * refused recipients in one session, each further refusal is answered
 * later, a little later each time (docs/smtpd.md, "Tarpit"). Harvesting
 * addresses by trying names then costs the harvester time, while a sender
 * with a few stale addresses notices nothing. */
#ifndef TERN_SMTP_TARPIT_H
#define TERN_SMTP_TARPIT_H

#include "smtp_conf.h"
#include "smtp_conn.h"
#include "smtp_io.h"

/* Seconds the reply to the session's refused-th refusal waits: 0 up to
 * tarpitcount (0: never), then tarpitdelay more for each refusal past it,
 * at most tarpitmaxdelay and at most the session timeout. Pure. */
extern unsigned int smtp_tarpit_delay(smtp_conf const *c, unsigned int refused);

/* A recipient about to be refused with reply: counts it in *refused (the
 * session's count) and waits as smtp_tarpit_delay says (the replies queued
 * before it are sent first; a client that is a RELAYCLIENT or
 * authenticated, or a temporary 4xx refusal, never waits). The first wait
 * of a session is logged on a line of its own. Returns the seconds it
 * waited (0: none, or the client is gone); the caller then gives the reply
 * and logs the recipient with the wait (smtp_txn.c). */
extern unsigned int smtp_tarpit_wait(smtp_io *io, smtp_conn const *cn, unsigned int *refused, char const *reply);

#endif
