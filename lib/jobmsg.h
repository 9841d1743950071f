/* jobmsg.h: the records between tern-send and a long-lived tern-remote run
 * (tern-remote -b, docs/INTERNALS.md "Batched remote runs").
 *
 * They travel over a unix SOCK_SEQPACKET socketpair, one record per packet:
 *
 *   tern-send -> run:  "M" ID " " DOMAIN " " IDX [" " IDX]...
 *                      with the queue file (read-only) attached (SCM_RIGHTS):
 *                      deliver message ID to the recipients at these envelope
 *                      positions, all of DOMAIN
 *   run -> tern-send:  "D" ID
 *                      the records for ID are written to the job file
 *
 * End of file on the socket tells the run to say QUIT and exit. One parser,
 * jobmsg_parse, which refuses short, overlong and trailing input; a packet
 * cut by the receive buffer, or with other than the expected number of
 * fds, is refused by jobmsg_recv. */
#ifndef TERN_JOBMSG_H
#define TERN_JOBMSG_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "queueid.h"

#define JOBMSG_RCPTS 256       /* recipients per record (SEND_JOB_RCPTS) */
#define JOBMSG_DOMAIN_MAX 255
#define JOBMSG_MAX (2 + QUEUEID_LEN + JOBMSG_DOMAIN_MAX + 1 + JOBMSG_RCPTS * 21)

typedef struct jobmsg_s jobmsg;
struct jobmsg_s
{
  char type;                          /* 'M' or 'D' */
  char id[QUEUEID_LEN + 1];
  char domain[JOBMSG_DOMAIN_MAX + 1]; /* 'M' only */
  size_t idx[JOBMSG_RCPTS];           /* 'M' only; each distinct */
  size_t n;
};

/* Appends the record for j to sa. 1 ok, 0 out of memory or j invalid. */
extern int jobmsg_fmt(stralloc *sa, jobmsg const *j);

/* Parses s[0..n) into j. 1 ok, 0 malformed: an unknown type, an ID that is
 * not 16 lowercase hex digits, a domain empty, too long or holding a space
 * or a control, no index, too many, a repeated one, a number with a sign
 * or leading zero, or anything after the last field. */
extern int jobmsg_parse(jobmsg *j, char const *s, size_t n);

/* Sends s[0..n) as one packet, with fd attached when fd >= 0.
 * 1 ok, -1 error (errno). */
extern int jobmsg_send(int sock, char const *s, size_t n, int fd);

/* Receives one packet into buf[0..max). Returns its length, 0 at end of
 * file, -1 error (errno; EPROTO for a packet longer than max or carrying
 * fds other than wanted). *fd gets the fd attached (close-on-exec), or -1;
 * with fd 0 any attached fd is an error. */
extern ssize_t jobmsg_recv(int sock, char *buf, size_t max, int *fd);

/* The same with up to JOBMSG_FDS_MAX fds (tern-tcpserver -w and a pooled
 * tern-tlsd hand their workers several, docs/pool.md): jobmsg_sendv
 * attaches fds[0..nfds); jobmsg_recvv puts those received in fds, their
 * number in *nfds, and refuses (EPROTO, all closed) more than maxfds. */
#define JOBMSG_FDS_MAX 4
extern int jobmsg_sendv(int sock, char const *s, size_t n, int const *fds, unsigned int nfds);
extern ssize_t jobmsg_recvv(int sock, char *buf, size_t max, int *fds, unsigned int *nfds, unsigned int maxfds);

#endif
