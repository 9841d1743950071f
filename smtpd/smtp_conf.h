/* smtp_conf.h: tern-smtpd's settings, declared once in a table (name,
 * default, bounds) and read from $TERN_HOME/control. */
#ifndef TERN_SMTP_CONF_H
#define TERN_SMTP_CONF_H

#include <skalibs/stralloc.h>

typedef struct smtp_conf_s smtp_conf;
struct smtp_conf_s
{
  stralloc me;            /* control/me: our name (required) */
  stralloc greeting;      /* control/smtpgreeting (default: me), then " ESMTP" */
  unsigned int databytes; /* control/databytes or $DATABYTES; 0 = no limit */
  unsigned int databytesctl; /* control/databytes as read (a worker's next session starts from it) */
  unsigned int maxrcpt;   /* control/maxrcpt */
  unsigned int maxerrors; /* control/maxerrors */
  unsigned int timeout;   /* control/timeoutsmtpd, seconds; the short one under stress */
  unsigned int timeoutnormal; /* control/timeoutsmtpd as read */
  unsigned int timeoutstress; /* control/timeoutsmtpdstress: under stress ($TERN_STRESS) */
  int stress;             /* $TERN_STRESS: the launcher's slots are nearly all busy */
  unsigned int greetdelay;/* $GREETDELAY: ms to wait before the greeting (0: none) */
  unsigned int maxcmdline;/* control/maxcmdline, bytes with CRLF */
  unsigned int maxhops;   /* control/maxhops: Received lines allowed */
  unsigned int authfaildelay; /* control/authfaildelay: ms of delay per AUTH failure so far */
  unsigned int authmaxfail;   /* control/authmaxfail: AUTH failures before we hang up */
  unsigned int tarpitcount;   /* control/tarpitcount: refused recipients before the tarpit (0: none) */
  unsigned int tarpitdelay;   /* control/tarpitdelay: seconds added per refusal past it */
  unsigned int tarpitmaxdelay;/* control/tarpitmaxdelay: seconds a refusal waits at most */
  unsigned int strictpipelining; /* control/strictpipelining: 1 refuses improper pipelining (smtp_guard.c) */
};
#define SMTP_GREETDELAY_MAX 60000   /* ms: a longer pause would only hold slots */

#define SMTP_CONF_ZERO { .me = STRALLOC_ZERO, .greeting = STRALLOC_ZERO }

/* 1 ok; 0 on error with *what naming the control file at fault (errno set).
 * Reads the control files, then the per-connection environment. */
extern int smtp_conf_load(smtp_conf *c, char const **what);

/* The per-connection environment only (DATABYTES, GREETDELAY,
 * TERN_STRESS) over the control files as last read: a pooled worker's
 * next session. Same returns. */
extern int smtp_conf_env(smtp_conf *c, char const **what);

/* Replaces sa with a fingerprint of every control file tern-smtpd reads
 * (device, inode, size, mtime, ctime; or absent), of control/ itself
 * and of $TERN_HOME: a
 * pooled worker reloads when it changes. 1 ok, 0 out of memory. */
extern int smtp_conf_stamp(stralloc *sa);

/* The cheap check before a pooled session (issue 14: the full stamp is
 * 22 stats): against full (smtp_conf_stamp's, taken before the files were
 * last read), $TERN_HOME, control/'s own stamp, and only the files full
 * found present. A file that appears, goes or is renamed in control/
 * changes control/'s stamp; one edited in place changes its own; a
 * dangling symbolic link counts as present. 1 unchanged, 0 changed (take
 * the full stamp), -1 out of memory. tmp is scratch space. */
extern int smtp_conf_same(stralloc const *full, stralloc *tmp);

#endif
