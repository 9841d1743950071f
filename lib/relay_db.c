/* relay_db.c: POP-before-SMTP records (see relay_db.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <skalibs/ip46.h>
#include <skalibs/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/direntry.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "pgdb.h"
#include "relay_db.h"

#define TMP_MAXAGE 3600
#define SWEEP_EVERY 60

/* control/pgsql exists but cannot be read: named in full. */
static void warn_pgdb(void)
{
  stralloc w = STRALLOC_ZERO;
  strerr_warnwusys("check ", control_where(&w, PGDB_CONTROL));
  stralloc_free(&w);
}

static char const v4mapped[12] = "\0\0\0\0\0\0\0\0\0\0\377\377";

/* Strict dotted quad: ip4_scan alone takes "01.2.3.4" and wraps "256". */
static int scan4(char *out4, char const *s)
{
  char back[IP4_FMT];
  size_t n = ip4_scan(s, out4);
  if (!n || s[n]) return 0;
  back[ip4_fmt(back, out4)] = 0;
  return !strcmp(back, s);
}

int relay_name(char *out, char const *ip)
{
  ip46 a;
  size_t n;
  if (!ip || !*ip || strlen(ip) >= RELAY_NAME_MAX) return 0;
  if (!strchr(ip, ':'))
  {
    if (!scan4(a.ip, ip)) return 0;
    a.is6 = 0;
  }
  else if (!strncasecmp(ip, "::ffff:", 7) && strchr(ip + 7, '.'))
  {
    if (!scan4(a.ip, ip + 7)) return 0;
    a.is6 = 0;
  }
  else
  {
    n = ip6_scan(ip, a.ip);
    if (!n || ip[n]) return 0;
    a.is6 = 1;
  }
  if (a.is6 && !memcmp(a.ip, v4mapped, 12))
    n = ip4_fmt(out, a.ip + 12);
  else
    n = ip46_fmt(out, &a);
  out[n] = 0;
  /* ip46_fmt writes only hex digits, '.' and ':'; checked anyway, since a
   * name that could climb out of the directory must never reach open(). */
  return n && out[0] != '.' && !strchr(out, '/');
}

int relay_dir(stralloc *sa)
{
  char const *e = getenv("RELAY_DIR");
  stralloc line = STRALLOC_ZERO;
  int r;
  sa->len = 0;
  if (e && *e) return stralloc_copys(sa, e) && stralloc_0(sa) ? 1 : -1;
  r = control_readline(&line, "relaydir");
  if (r < 0) { stralloc_free(&line); return -1; }
  if (r > 0 && line.len > 1)
  {
    r = line.s[0] == '/'
      ? stralloc_copy(sa, &line)
      : tern_path(sa, line.s);
    stralloc_free(&line);
    return r ? 1 : -1;
  }
  stralloc_free(&line);
  return tern_path(sa, "relay") ? 1 : -1;
}

int relay_expiry(unsigned int *minutes)
{
  char const *e = getenv("RELAY_EXPIRY");
  if (e && *e)
  {
    size_t n = uint_scan(e, minutes);
    if (!n || e[n]) { errno = EINVAL; return -1; }
  }
  else if (control_readuint(minutes, "relayexpiry", RELAY_EXPIRY_DEFAULT) < 0)
    return -1;
  if (*minutes > RELAY_EXPIRY_MAX) { errno = EINVAL; return -1; }
  return 1;
}

/* path = dir/prefix name suffix, in sa. */
static int mkpath(stralloc *sa, char const *dir, char const *prefix, char const *name, char const *suffix)
{
  sa->len = 0;
  return stralloc_cats(sa, dir) && stralloc_catb(sa, "/", 1)
      && stralloc_cats(sa, prefix) && stralloc_cats(sa, name)
      && stralloc_cats(sa, suffix) && stralloc_0(sa);
}

int relay_record(char const *dir, char const *name)
{
  stralloc tmp = STRALLOC_ZERO, fin = STRALLOC_ZERO;
  char pid[PID_FMT + 1];
  struct timespec ts[2];
  int fd, e;
  pid[0] = '.';
  pid[1 + pid_fmt(pid + 1, getpid())] = 0;
  if (!mkpath(&tmp, dir, ".tmp.", name, pid) || !mkpath(&fin, dir, "", name, "")) goto err;
  unlink(tmp.s);  /* a leftover of an earlier process with our pid */
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) goto err;
  /* The time is set from our clock, not the file server's, so servers that
   * share the directory over NFS compare times from the same kind of clock. */
  ts[0].tv_sec = ts[1].tv_sec = time(0);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (futimens(fd, ts) < 0 || close(fd) < 0) { e = errno; close(fd); unlink(tmp.s); errno = e; goto err; }
  if (rename(tmp.s, fin.s) < 0) { e = errno; unlink(tmp.s); errno = e; goto err; }
  stralloc_free(&tmp); stralloc_free(&fin);
  return 1;
 err:
  e = errno;
  stralloc_free(&tmp); stralloc_free(&fin);
  errno = e;
  return -1;
}

void relay_grant(void)
{
  char const *ip = getenv("TCPREMOTEIP");
  char name[RELAY_NAME_MAX];
  stralloc dir = STRALLOC_ZERO;
  if (!ip) { strerr_warnw("TCPREMOTEIP not set: no relay recorded"); return; }
  if (!relay_name(name, ip)) { strerr_warnw("invalid TCPREMOTEIP: no relay recorded"); return; }
  switch (pgdb_configured())
  {
    case 1:
      if (relay_pg_record(name) < 0) strerr_warnw("relay table unreachable: no relay recorded for ", name);
      else strerr_warni("relay allowed for ", name);
      return;
    case -1: warn_pgdb(); return;
    default: break;
  }
  if (relay_dir(&dir) < 0) { strerr_warnwusys("find the relay directory"); return; }
  if (relay_record(dir.s, name) < 0)
    strerr_warnwusys("record ", name, " in ", dir.s);
  else
    strerr_warni("relay allowed for ", name);
  stralloc_free(&dir);
}

/* A record counts from its mtime for maxage seconds. A time far in the
 * future (a clock that jumped) counts as stale rather than forever fresh. */
static int is_fresh(time_t mtime, time_t now, time_t maxage)
{
  return mtime > now - maxage && mtime < now + maxage;
}

int relay_fresh(char const *dir, char const *name, time_t now, time_t maxage)
{
  stralloc path = STRALLOC_ZERO;
  struct stat st;
  int r;
  if (!mkpath(&path, dir, "", name, "")) return -1;
  if (lstat(path.s, &st) < 0)
    r = errno == ENOENT ? 0 : -1;
  else if (S_ISREG(st.st_mode) && is_fresh(st.st_mtime, now, maxage))
    r = 1;
  else
  {
    r = 0;
    if (unlink(path.s) < 0 && errno != ENOENT) r = -1;
  }
  stralloc_free(&path);
  return r;
}

/* 1 when the directory entry d should go: a stale record, an old temporary
 * file, or anything else old that is not ours to keep. */
static int sweepable(char const *dir, char const *d, time_t now, time_t maxage, stralloc *path)
{
  struct stat st;
  char canon[RELAY_NAME_MAX];
  if (d[0] == '.')
  {
    if (strncmp(d, ".tmp.", 5)) return 0;
    if (!mkpath(path, dir, "", d, "") || lstat(path->s, &st) < 0) return 0;
    return st.st_mtime < now - TMP_MAXAGE;
  }
  if (!relay_name(canon, d) || strcmp(canon, d)) return 0;
  if (!mkpath(path, dir, "", d, "") || lstat(path->s, &st) < 0) return 0;
  return !S_ISREG(st.st_mode) || !is_fresh(st.st_mtime, now, maxage);
}

int relay_sweep(char const *dir, time_t now, time_t maxage)
{
  stralloc path = STRALLOC_ZERO;
  DIR *dh = opendir(dir);
  int n = 0;
  if (!dh) return -1;
  for (;;)
  {
    direntry *d;
    errno = 0;
    d = readdir(dh);
    if (!d) break;
    /* A fresh record written between our lstat and our unlink is lost; its
     * user logs in again. Cheaper than locking a directory shared by many
     * servers, and the window is microseconds once a minute. */
    if (sweepable(dir, d->d_name, now, maxage, &path) && unlink(path.s) == 0) n++;
  }
  if (errno) n = -1;
  closedir(dh);
  stralloc_free(&path);
  return n;
}

int relay_sweep_due(char const *dir, time_t now, time_t every)
{
  stralloc path = STRALLOC_ZERO;
  struct stat st;
  int due = 0;
  if (!mkpath(&path, dir, "", ".sweep", "")) return 0;
  if (lstat(path.s, &st) < 0 || st.st_mtime <= now - every || st.st_mtime > now + every)
  {
    /* The directory is shared with another user, who could put a fifo
     * here (an open for writing would wait forever for a reader, on every
     * SMTP connection) or a link to one of its files: non-blocking, and a
     * regular file of ours only. */
    int fd = open(path.s, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()))
    {
      close(fd);
      fd = -1;
    }
    if (fd >= 0)
    {
      struct timespec ts[2];
      ts[0].tv_sec = ts[1].tv_sec = now;
      ts[0].tv_nsec = ts[1].tv_nsec = 0;
      due = futimens(fd, ts) == 0;
      close(fd);
    }
  }
  stralloc_free(&path);
  return due;
}

/* The record of name, from the database or the directory, and the sweep. */
static int check_record(char const *name, time_t now, time_t maxage)
{
  stralloc dir = STRALLOC_ZERO;
  int r, db = pgdb_configured();
  if (db < 0) { warn_pgdb(); return -1; }
  if (db)
  {
    r = relay_pg_fresh(name, maxage);
    if (r < 0) strerr_warnw("relay table unreachable: no relay for ", name);
    else if (relay_pg_sweep(maxage, SWEEP_EVERY) < 0) strerr_warnw("unable to sweep the relay table");
    return r;
  }
  if (relay_dir(&dir) < 0) { strerr_warnwusys("find the relay directory"); return -1; }
  r = relay_fresh(dir.s, name, now, maxage);
  if (r < 0) strerr_warnwusys("check ", dir.s, "/", name);
  if (relay_sweep_due(dir.s, now, SWEEP_EVERY) && relay_sweep(dir.s, now, maxage) < 0)
    strerr_warnwusys("sweep ", dir.s);
  stralloc_free(&dir);
  return r;
}

int relay_check(char const *ip, time_t now)
{
  char name[RELAY_NAME_MAX];
  unsigned int minutes;
  int r;
  if (relay_expiry(&minutes) < 0) { strerr_warnwusys("read RELAY_EXPIRY or control/relayexpiry"); return 0; }
  if (!minutes || !ip) return 0;
  if (!relay_name(name, ip)) { strerr_warnw("invalid TCPREMOTEIP: no relay"); return 0; }
  r = check_record(name, now, (time_t)minutes * 60);
  if (r > 0) strerr_warni("relay granted to ", name, " (POP-before-SMTP)");
  return r > 0;
}
