/* smtp_tarpit.h: the tarpit of tern-smtpd: after control/tarpitcount
 * refused recipients in one session, each further refusal is answered
 * later, a little later each time (docs/smtpd.md, "Tarpit"). Harvesting
 * addresses by trying names then costs the harvester time, while a sender
 * with a few stale addresses notices nothing. */
#ifndef TERN_SMTP_TARPIT_H
#define TERN_SMTP_TARPIT_H

#include "smtp_conf.h"
#include "smtp_session.h"

/* Seconds the reply to the session's refused-th refusal waits: 0 up to
 * tarpitcount (0: never), then tarpitdelay more for each refusal past it,
 * at most tarpitmaxdelay and at most the session timeout. Pure. */
extern unsigned int smtp_tarpit_delay(smtp_conf const *c, unsigned int refused);

/* A refused recipient: counts it, waits as smtp_tarpit_delay says (the
 * replies queued before it are sent first; a client that is a RELAYCLIENT
 * or authenticated, or a temporary 4xx refusal, never waits), then gives
 * the reply (counted towards maxerrors) and adds the recipient to the
 * transaction's log line (addr 0: unknown), with the wait when there was
 * one. The first wait of a session is logged on a line of its own. */
extern void smtp_tarpit_refuse(smtp_session *s, char const *reply, char const *addr, char const *why);

#endif
