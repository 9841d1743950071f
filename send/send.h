/* send.h: tern-send's in-memory picture of the queue and its jobs
 * (docs/delivery.md). Everything here can be rebuilt from queue/mess and
 * queue/state, which is what a restart does. */
#ifndef TERN_SEND_H
#define TERN_SEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "statefile.h"

#define SEND_ID_LEN 16
#define SEND_RETRY_MAX 64          /* entries of control/retryschedule kept */
#define SEND_RESCAN 300            /* longest wait between full queue scans */
#define SEND_RESCAN_MIN 5          /* shortest (sendq_rescan_every) */
#define SEND_SCAN_EARLY 256        /* messages loaded before the first deliveries start */
#define SEND_STOP_WAIT 5           /* seconds SIGTERM waits for running deliveries */
#define SEND_TMP_AGE 3600          /* tmp/ files older than this are removed */
#define DOUBLEBOUNCE_SENDER "#@[]" /* sender of double bounces: never bounced */

typedef struct sendconf_s sendconf;
struct sendconf_s
{
  unsigned int conclocal, concremote;
  unsigned int lifetime;               /* control/queuelifetime, seconds */
  unsigned int retry[SEND_RETRY_MAX];  /* control/retryschedule, seconds */
  unsigned int nretry;
  stralloc me, bouncefrom, bouncehost, doublebounceto;
  int doublebounce;                    /* 0: doublebounceto exists and is empty */
  stralloc locals;                     /* users_locals_load() */
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
  char id[SEND_ID_LEN + 1];
  uint64_t arrival, size;
  stralloc env;        /* envelope bytes */
  envelope e;          /* points into env */
  rcpt *r;             /* one per envelope recipient */
  size_t pending;      /* recipients not done */
  size_t busy;         /* recipients in a running job */
  stralloc texts;      /* last Z/D texts (rcpt.st.text offsets) */
  int bounced;
  uint64_t bounce_due; /* retry of a bounce the queue refused */
};

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
  char id[SEND_ID_LEN + 1];  /* the message, for a run an earlier tern-send started */
  int exited, wstat;
  int local;
  unsigned long num;   /* delivery number for the logs */
  msg *m;
  size_t idx[256];     /* the recipients it carries */
  size_t n;
  stralloc out;        /* what it wrote */
};
#define SEND_JOB_RCPTS 256

typedef struct sendq_s sendq;
struct sendq_s
{
  sendconf c;
  genalloc msgs;       /* of msg *, arrival order */
  genalloc ids;        /* of uint64_t: open-addressing set of known IDs */
  size_t nids;
  job *jobs;           /* conclocal + concremote slots */
  genalloc orphans;    /* of job: runs an earlier tern-send started, still going */
  unsigned int nlocal, nremote;
  unsigned long delivery;
  int stopping;
  int rescan;          /* a message failed to load: scan the queue again soon */
};

/* send_conf.c */
extern int sendconf_load(sendconf *c);
extern uint64_t sendconf_delay(sendconf const *c, unsigned int tries);

/* send_queue.c */
extern int sendq_id_known(sendq *q, char const *id);
extern int sendq_id_add(sendq *q, char const *id);
extern void sendq_id_del(sendq *q, char const *id);
extern void sendq_scan(sendq *q, uint64_t now);
/* The scan at start: the same, but deliveries begin as soon as
 * SEND_SCAN_EARLY messages are loaded, not after the whole queue is read. */
extern void sendq_scan_first(sendq *q, uint64_t now);
extern void sendq_cleanup(uint64_t now, int orphans);
extern int sendq_mess_exists(char const *id);
/* Loads the one message id (named by tern-queue on queue/trigger), if it
 * is in queue/mess and not known yet. */
extern void sendq_scan_id(sendq *q, char const *id, uint64_t now);
extern void sendq_finish(sendq *q, msg *m, uint64_t now);
extern void sendq_msg_free(msg *m);
extern char const *send_domain(char const *addr);

/* send_sched.c */
extern void sched_start(sendq *q, uint64_t now);
extern uint64_t sched_next(sendq const *q, uint64_t now);
extern void sched_job_done(sendq *q, job *j, uint64_t now);
extern unsigned int sched_running(sendq const *q);
extern void sched_log_status(sendq const *q);

/* send_job.c */
extern int job_dir_init(void);
/* Where j's run (j->local, idx, n set) writes its report for msg id:
 * its job file, else a pipe (j->pipe set). The fd to give the run, -1 error. */
extern int job_report_fd(job *j, char const *id);
/* Reads what a pipe holds into j->out; at EOF j->pfd becomes -1. */
extern void job_pipe_read(job *j);
/* The run could not start: undoes job_report_fd. */
extern void job_report_abort(job *j, int wfd);
/* Removes j's job file (an idle slot's, at exit). */
extern void job_file_drop(job *j);
/* A run ended: its results recorded, its job file removed. */
extern void job_finish(sendq *q, job *j, uint64_t now);
/* At start, before the scan: the results of runs that ended go to the state
 * files; runs still going are kept in q->orphans. */
extern void sendq_jobs_recover(sendq *q, uint64_t now);
/* A message was loaded: the orphans that carry its recipients keep them busy. */
extern void sendq_orphans_attach(sendq *q, msg *m);
/* Finishes the orphans that ended; returns how many still run. */
extern size_t sendq_orphans_poll(sendq *q, uint64_t now);

/* send_bounce.c */
extern int bounce_build(stralloc *out, sendconf const *c, msg const *m, int fd, char const *to, uint64_t now);
extern int bounce_status(char *st, char const *text);

/* the log: "tern-send: info: ..." */
#define send_log(...) strerr_warni(__VA_ARGS__)

#endif
