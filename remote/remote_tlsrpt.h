/* remote_tlsrpt.h: the outcome of each delivery session for SMTP TLS
 * reporting (RFC 8460): one line (lib/tlsrpt.h) appended to
 * HOME/tlsrpt/YYYY-MM-DD (the UTC day) with one O_APPEND write, so that
 * concurrent tern-remote runs never interleave their records. tern-tlsrpt
 * turns the day's lines into reports (docs/tlsrpt.md).
 *
 * Recorded: each session that reached the STARTTLS step under a policy
 * asking for TLS (may and above), and each delivery that an MTA-STS policy
 * stopped before any session (no MX matched). Under MTA-STS testing, a
 * session with an MX outside the policy is a validation-failure. Not recorded: smtproutes
 * relays (not the domain's own hosts), tlsroutes none, sessions that ended
 * before STARTTLS. Without the directory nothing is recorded: removing it
 * turns recording off.
 *
 * SECURITY: runs as the remote-delivery user; the file is created mode 600
 * without following symbolic links; names from DNS are written only through
 * tlsrpt_rec_format, which keeps a field to its characters. */
#ifndef TERN_REMOTE_TLSRPT_H
#define TERN_REMOTE_TLSRPT_H

#include <skalibs/ip46.h>
#include "remote_cfg.h"
#include "remote_sts.h"

/* Records one session to mx at rip (fd: its socket, for our address; -1:
 * none) for domain under cfg and s, that ended STARTTLS with result (an
 * RFC 8460 result type, or 0: not reached, nothing recorded). A failure to
 * record is a warning on fd 2, never a failed delivery. */
extern void rtlsrpt_session(rcfg const *cfg, sts const *s, char const *domain, char const *result,
                            char const *mx, ip46 const *rip, int fd);

#endif
