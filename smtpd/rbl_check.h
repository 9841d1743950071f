/* rbl_check.h: tern-rblsmtpd's whole decision for one connection, shared by
 * tern-rblsmtpd and tern-smtpd's in-process check as a pooled worker
 * (docs/pool.md): RBLSMTPD, else every list at once over DNS, a log line,
 * and for a blocked client the refusing dialogue.
 *
 * SECURITY: as rbl_lookup.h and rbl_dialog.h: texts cleaned, the lookups
 * and the dialogue bounded in time, lines bounded in length. */
#ifndef TERN_RBL_CHECK_H
#define TERN_RBL_CHECK_H

#include <stddef.h>
#include "rbl_lookup.h"

#define RBL_LISTS_MAX 32

typedef struct rbl_conf_s rbl_conf;
struct rbl_conf_s
{
  rbl_options o;
  unsigned int secs;       /* -t: limit for the lookups, and for the dialogue (60) */
  unsigned int stresssecs; /* -s: the same under stress (TERN_STRESS) */
  unsigned int maxline;    /* -l */
  rbl_list lists[RBL_LISTS_MAX];
  size_t nlists;
};

/* The defaults of tern-rblsmtpd. */
extern void rbl_conf_init(rbl_conf *c);

/* One of tern-rblsmtpd's options (opt in "bBcCt:s:l:r:a:", arg its
 * value): 1 taken, 0 a bad value or too many lists (*why says which),
 * -1 not one of them. */
extern int rbl_conf_option(rbl_conf *c, int opt, char const *arg, char const **why);

/* Decides for the client in $TCPREMOTEIP ($RBLSMTPD first, $TERN_STRESS
 * picks the time limit) and logs the decision. 1 pass; 0 blocked: the
 * refusing dialogue was held on fds in and out and is over. */
extern int rbl_check(rbl_conf const *c, int in, int out);

#endif
