/* send.h: tern-send's in-memory picture of the queue and its delivery runs
 * (docs/delivery.md). Everything here can be rebuilt from queue/mess,
 * queue/state and queue/job, which is what a restart does.
 *
 * The parts, each calling only the ones listed before it, never back up
 * (the loop's prepare/do shape is qmail-send's):
 *   the queue model   send_conf.c (control files), send_queue.c (loading,
 *                     the ID set, what is on disk, scans under the active
 *                     limit), send_bounce.c (building reports), then
 *                     send_done.c (finishing: report, then delete; the
 *                     delay report; what crashes leave behind)
 *   the runs          send_job.c (job files, starting runs, the batch
 *                     socket of a tern-remote -b run), then send_orphan.c
 *                     (the job files an earlier tern-send left)
 *   the policy        send_sched.c (what to start, on which run), then
 *                     send_result.c (what a run reported, into the state
 *                     file and memory; the end of runs)
 *   the loop          tern-send.c
 * Queue IDs and paths are lib/queueid.h's. */
#ifndef TERN_SEND_H
#define TERN_SEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "queueid.h"
#include "statefile.h"

#define SEND_RETRY_MAX 64          /* entries of control/retryschedule kept */
#define SEND_BOUNCEMAX_LIMIT 104857600  /* control/bouncemaxbytes above this counts as this (100 MiB) */
#define SEND_RESCAN 300            /* longest wait between full queue scans */
#define SEND_RESCAN_MIN 5          /* shortest (rescan_every) */
#define SEND_SCAN_EARLY 256        /* messages loaded before the first deliveries start */
#define SEND_STOP_WAIT 5           /* seconds SIGTERM waits for running deliveries */
#define SEND_TMP_AGE 3600          /* tmp/ files older than this are removed */
#define SEND_JOB_RCPTS 256         /* recipients per delivery (JOBMSG_RCPTS) */
#define DOUBLEBOUNCE_SENDER "#@[]" /* sender of double bounces: never bounced */

typedef struct sendconf_s sendconf;
struct sendconf_s
{
  unsigned int conclocal, concremote;
  unsigned int lifetime;               /* control/queuelifetime, seconds */
  unsigned int retry[SEND_RETRY_MAX];  /* control/retryschedule, seconds */
  unsigned int nretry;
  unsigned int remotebatch;            /* control/remotebatch: messages per tern-remote run (1: one-shot runs) */
  unsigned int remoteidle;             /* control/remoteidle: seconds an idle run waits for a message */
  unsigned int remotelife;             /* control/remotelifetime: seconds a run takes new messages */
  unsigned int active;                 /* control/queueactive: messages held in memory */
  unsigned int delaywarn;              /* control/delaywarning: seconds queued before a delay report (0: none) */
  unsigned int firstdelay;             /* control/firstdelay: seconds a new message waits before its first attempt */
  unsigned int bouncemaxbytes;         /* control/bouncemaxbytes: RET=FULL returns a message this big at most */
  stralloc me, bouncefrom, bouncehost, doublebounceto;
  int doublebounce;                    /* 0: doublebounceto exists and is empty */
  stralloc locals;                     /* users_locals_load() */
  stralloc routes;                     /* control/smtproutes (lib/route.h) */
};

typedef struct rcpt_s rcpt;
struct rcpt_s
{
  staterc st;          /* status 0 or 'Z': pending; 'K', 'D': done */
  uint64_t due;        /* next attempt, seconds since the epoch */
  unsigned char local, busy;
};

typedef struct msg_s msg;
struct msg_s
{
  char id[QUEUEID_LEN + 1];
  uint64_t arrival, size;
  stralloc env;        /* envelope bytes */
  envelope e;          /* points into env */
  rcpt *r;             /* one per envelope recipient */
  size_t pending;      /* recipients not done */
  size_t busy;         /* recipients in a running job */
  stralloc texts;      /* last Z/D texts (rcpt.st.text offsets) */
  int bounced;         /* its report (failures, successes) was queued: B record */
  int warned;          /* its delay report was queued: W record */
  uint64_t bounce_due; /* retry of a bounce the queue refused */
};

/* A delivery slot and its run. A classic run (tern-local, one-shot
 * tern-remote) carries one message; a batch run (tern-remote -b) one
 * message at a time, for as long as tern-send gives it more. */
typedef struct job_s job;
struct job_s
{
  pid_t pid;           /* 0: slot free; -1: a run an earlier tern-send started */
  int fd;              /* the slot's job file (send_job.c), kept between runs; -1 none yet */
  int pfd;             /* the read end of the report pipe, when pipe; -1 at EOF */
  int pipe;            /* the report comes through a pipe: no job file could be written */
  unsigned int slot;   /* names the slot's job file */
  size_t hdrlen;       /* the report starts there */
  stralloc path;       /* of the job file */
  char id[QUEUEID_LEN + 1];  /* the message, for a run an earlier tern-send started */
  int exited, wstat;
  int local;
  unsigned long num;   /* delivery number for the logs */
  msg *m;              /* the message it carries now; 0: none (a batch run between messages) */
  size_t idx[SEND_JOB_RCPTS];   /* the recipients it carries */
  size_t n;
  stralloc out;        /* what it wrote */
  /* batch runs (tern-remote -b) */
  int batch;
  int sock;            /* our end of its socketpair; -1: closed (the run ends) */
  int done;            /* it said "D" for m: its records are in the file */
  stralloc route;      /* the destination it serves (send_route) */
  uint64_t born, idle_since;
  unsigned int count;  /* messages given to it */
};

typedef struct sendq_s sendq;
struct sendq_s
{
  sendconf c;
  genalloc msgs;       /* of msg *, arrival order */
  genalloc ids;        /* of uint64_t: open-addressing set of known IDs */
  size_t nids;
  genalloc fresh;      /* of msg *: loaded by the last scan, not yet seen by the policy */
  job *jobs;           /* conclocal + concremote slots */
  genalloc orphans;    /* of job: runs an earlier tern-send started, still going */
  unsigned int nlocal, nremote;   /* slots taken */
  unsigned int nidle;  /* batch runs waiting for a message (counted in nremote) */
  unsigned long delivery;
  int stopping;
  int rescan;          /* a message failed to load: scan the queue again soon */
  int overflow;        /* messages left on disk by the active limit */
  int evicted;         /* deferred messages were dropped from memory (send_result.c) */
  uint64_t evict_at;   /* the last sched_evict */
  unsigned int scan_hh;   /* the first scan's next bucket; 256: done */
  unsigned long nbatch, nbatchmsgs;   /* batch runs started, messages given to them */
};

/* --- the queue model --- */

/* send_conf.c */
extern int sendconf_load(sendconf *c);
extern uint64_t sendconf_delay(sendconf const *c, unsigned int tries);

/* send_queue.c */
extern int sendq_id_known(sendq *q, char const *id);
extern int sendq_id_add(sendq *q, char const *id);
extern void sendq_id_del(sendq *q, char const *id);
/* Loads what queue/mess holds and memory does not, up to the active limit
 * (c.active; q->overflow is set when messages were left on disk). Each
 * message loaded joins q->fresh. */
extern void sendq_scan(sendq *q, uint64_t now);
/* The first scan, a part at a time: reads buckets from q->scan_hh on until
 * at least want messages were loaded or the queue is read (scan_hh 256). */
extern void sendq_scan_some(sendq *q, uint64_t now, size_t want);
/* Loads the one message id (named by tern-queue on queue/trigger), if it
 * is in queue/mess and not known yet. */
extern void sendq_scan_id(sendq *q, char const *id, uint64_t now);
/* Is queue/mess/HH/ID there (lib/queueid.h)? */
extern int sendq_mess_exists(char const *id);
/* Is queue/hold/HH/ID there (put on hold by tern-qsuper -h)? */
extern int sendq_held(char const *id);
extern void sendq_msg_free(msg *m);
extern char const *send_domain(char const *addr);
/* The destination a delivery to domain goes to, for grouping messages on
 * one tern-remote run: "relay VALUE" when control/smtproutes names a
 * relay for it, else "mx DOMAIN" (lowercase, no final dot). 1 ok. */
extern int send_route(stralloc *sa, sendconf const *c, char const *domain);

/* send_done.c */
/* Removes m from memory only (its files stay); the ID is forgotten. */
extern void sendq_forget(sendq *q, msg *m);
/* The message is done, or its bounce due: bounce, delete, forget. */
extern void sendq_finish(sendq *q, msg *m, uint64_t now);
/* A delay report for m, once (control/delaywarning). */
extern void sendq_delay_warn(sendq *q, msg *m, uint64_t now);
/* Removes what crashes leave: old tmp/ files, and with orphans the state
 * files without a message. */
extern void sendq_cleanup(uint64_t now, int orphans);

/* send_bounce.c */
/* The RFC 3464 report of m to `to`: act[i] says what it tells of recipient
 * i: 0 nothing, 'F' failed, 'W' delayed, 'S' delivered, 'R' relayed. */
extern int dsnreport_build(stralloc *out, sendconf const *c, msg const *m, int fd, char const *to, uint64_t now,
                           char const *act);
/* The report of m's failed recipients (every D, whatever NOTIFY says). */
extern int bounce_build(stralloc *out, sendconf const *c, msg const *m, int fd, char const *to, uint64_t now);
/* The RFC 3463 status (class.subject.detail) found in text into st (at
 * most 12 bytes with the NUL). 1 found, 0 not. */
extern int bounce_status(char *st, char const *text);

/* --- the runs --- */

/* send_job.c */
extern int job_dir_init(void);
/* Starts a classic run for recipients j->idx[0..j->n) of m (j->local set):
 * tern-local, or tern-remote DOMAIN. 1 started, 0 not (warned). */
extern int job_start_classic(job *j, msg const *m, char const *domain);
/* Starts tern-remote -b in slot j for route with message m (recipients
 * j->idx[0..j->n), all of domain). 1 started and given; -1 started, but
 * the message not given (the run is closed); 0 not started (no job file
 * can be written: use a classic run, whose report comes through a pipe). */
extern int job_start_batch(job *j, char const *route, uint64_t now, msg const *m, char const *domain);
/* Gives the idle batch run of j message m (recipients j->idx[0..j->n), all
 * of domain). 1 given, 0 not (the run is then closed). */
extern int job_give(job *j, msg const *m, char const *domain);
/* Closes a batch run's socket: it says QUIT and exits. */
extern void job_close(job *j);
/* Reads the batch socket: sets j->done on "D" for the current message;
 * closes the socket at its end or on anything else. */
extern void job_sock_read(job *j);
/* Reads what a pipe holds into j->out; at EOF j->pfd becomes -1. */
extern void job_pipe_read(job *j);
/* The records of j's current message into j->out (job file or pipe). */
extern void job_collect(job *j);
/* After the records are recorded: the file emptied for the slot's next
 * message (an earlier tern-send's file removed). */
extern void job_reset(job *j);
/* Removes j's job file (an idle slot's, at exit). */
extern void job_file_drop(job *j);
/* Reads the header of j's job file (j->id, local, idx, n). 1 ok, 0 malformed. */
extern int job_file_parse(job *j);
/* A finished run whose message is not in memory: its records straight into
 * the state file. 1 recorded (or nothing to record), 0 not. */
extern int job_record(job *j, uint64_t now);

/* send_orphan.c: at start, before the scan: the results of runs an
 * earlier tern-send started and that ended go to the state files; those
 * still going are kept in q->orphans. */
extern void orphans_recover(sendq *q, uint64_t now);
/* Has the orphan's run ended (its job file's lock came free)? */
extern int orphan_ended(job const *o);
/* Removes orphan i from q->orphans. */
extern void orphan_drop(sendq *q, size_t i);

/* --- the policy --- */

/* send_sched.c */
/* Starts what is due, on idle batch runs of its route first, then on free
 * slots; finishes the messages that are done. */
extern void sched_start(sendq *q, uint64_t now);
/* When something is due next (0: nothing), and when an idle batch run
 * must be closed (idle time over). */
extern uint64_t sched_next(sendq const *q, uint64_t now);
/* Closes idle batch runs past control/remoteidle or remotelifetime (all,
 * stopping). */
extern void sched_idle(sendq *q, uint64_t now);
extern unsigned int sched_running(sendq const *q);
extern void sched_log_status(sendq const *q);

/* send_result.c */
/* The messages the last scan loaded: the orphans that carry their
 * recipients keep them busy; those with nothing left are finished. */
extern void sched_fresh(sendq *q, uint64_t now);
/* A batch run said "D": its message's results recorded; the run idles or
 * is closed (remotebatch, remotelifetime). */
extern void sched_message_done(sendq *q, job *j, uint64_t now);
/* A run exited: the results of its message, if any; the slot freed. */
extern void sched_run_end(sendq *q, job *j, uint64_t now);
/* Under the active limit with messages left on disk: every message
 * waiting for a retry leaves memory until then. */
extern void sched_evict(sendq *q, uint64_t now);
/* Finishes the orphans that ended; returns how many still run. */
extern size_t sched_orphans(sendq *q, uint64_t now);

/* the log: "tern-send: info: ..." */
#define send_log(...) strerr_warni(__VA_ARGS__)

#endif
