/* queuewrite.c: the hardened queue commit (queuewrite.h). */
#define _GNU_SOURCE   /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "qexit.h"
#include "queuewrite.h"

#define TRIES 20

/* Records a failure: code, what could not be done, errno as given. */
static int fail(queuewrite *q, int code, char const *what)
{
  q->what = what;
  return code;
}

/* q->what = a b c (in whatbuf); errno untouched. */
static void describe(queuewrite *q, char const *a, char const *b, char const *c)
{
  char const *part[3] = { a, b, c };
  size_t n = 0, i, m;
  for (i = 0; i < 3; i++)
  {
    m = strlen(part[i]);
    if (m > sizeof q->whatbuf - 1 - n) m = sizeof q->whatbuf - 1 - n;
    memcpy(q->whatbuf + n, part[i], m);
    n += m;
  }
  q->whatbuf[n] = 0;
  q->what = q->whatbuf;
}

/* Our reason, not the system's: errno 0. */
static int refuse(queuewrite *q, char const *a, char const *b, char const *c)
{
  describe(q, a, b, c);
  errno = 0;
  return QEXIT_QUEUE;
}

int queuewrite_id_ok(char const *id, int strict, uint64_t now)
{
  uint64_t t;
  if (!queueid_ok(id)) return 0;
  t = queueid_time(id);
  return !strict || (t + QUEUEWRITE_ID_MAXAGE >= now && t <= now + QUEUEWRITE_ID_AHEAD);
}

/* The directory open on fd is ours alone (checked by the descriptor). */
static int dir_ok(queuewrite *q, int fd, char const *label, int groupok)
{
  struct stat st;
  if (fstat(fd, &st) < 0) return fail(q, QEXIT_QUEUE, "check a queue directory");
  if (st.st_uid != q->uid) return refuse(q, "use ", label, ": it does not belong to the queue user");
  if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && (!groupok || st.st_gid != q->gid)))
    return refuse(q, "use ", label, ": others may write it");
  return 0;
}

/* Opens the directory name below parent without following a symbolic link
 * and checks by the descriptor (not the name, which could be swapped
 * meanwhile) that it is ours alone. create: make it when it is missing
 * (and fsync parent). label names it in messages. */
static int open_dir(queuewrite *q, int parent, char const *name, char const *label, int groupok, int create, int *out)
{
  int code;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create)
  {
    if (mkdirat(parent, name, 0750) < 0 && errno != EEXIST) return fail(q, QEXIT_QUEUE, "create a queue directory");
    if (fsync(parent) < 0) return fail(q, QEXIT_WRITE, "fsync a queue directory");
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0)
  {
    if (errno == ELOOP || errno == ENOTDIR) return refuse(q, "use ", label, ": a symbolic link or not a directory");
    describe(q, "open ", label, "");
    return QEXIT_QUEUE;
  }
  if ((code = dir_ok(q, fd, label, groupok))) { close(fd); return code; }
  *out = fd;
  return 0;
}

int queuewrite_open(queuewrite *q, char const *home)
{
  stralloc path = STRALLOC_ZERO;
  int code;
  q->uid = geteuid();
  q->gid = getegid();
  /* HOME/queue in one open: the home's own path is followed as given (it
   * is the compiled one, or the caller's own), O_NOFOLLOW guards "queue" */
  if (!stralloc_cats(&path, home) || !stralloc_cats(&path, "/queue") || !stralloc_0(&path))
    return fail(q, QEXIT_NOMEM, "store the queue's path");
  code = open_dir(q, AT_FDCWD, path.s, "queue/", 1, 0, &q->queue);
  stralloc_free(&path);
  if (code && errno == ENOENT && access(home, F_OK) < 0) return fail(q, QEXIT_HOME, "open the home directory");
  if (code || (code = open_dir(q, q->queue, "tmp", "queue/tmp/", 0, 0, &q->tmp))
   || (code = open_dir(q, q->queue, "mess", "queue/mess/", 1, 0, &q->mess))) return code;
  return 0;
}

/* The kept directories still pass open_dir's checks, by descriptor, and
 * HOME/queue still names the one kept (a queue moved aside and replaced
 * is opened again). 0 ok, else a code as open_dir's. */
static int kept_ok(queuewrite *k, char const *home)
{
  char path[4096];
  struct stat a, b;
  size_t n = strlen(home);
  int code;
  if (n > sizeof path - 7) return fail(k, QEXIT_QUEUE, "store the queue's path");
  memcpy(path, home, n);
  memcpy(path + n, "/queue", 7);
  if (lstat(path, &a) < 0 || fstat(k->queue, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
    return fail(k, QEXIT_QUEUE, "find the queue where it was");
  if ((code = dir_ok(k, k->queue, "queue/", 1)) || (code = dir_ok(k, k->tmp, "queue/tmp/", 0))
   || (code = dir_ok(k, k->mess, "queue/mess/", 1))) return code;
  return 0;
}

int queuewrite_open_kept(queuewrite *q, queuewrite *kept, char const *home)
{
  int code = 0;
  if (kept->queue >= 0 && kept_ok(kept, home)) queuewrite_close(kept);
  if (kept->queue < 0 && (code = queuewrite_open(kept, home)))
  {
    q->what = kept->what == kept->whatbuf ? q->whatbuf : kept->what;
    int e = errno;
    memcpy(q->whatbuf, kept->whatbuf, sizeof q->whatbuf);
    queuewrite_close(kept);
    errno = e;
    return code;
  }
  q->uid = kept->uid;
  q->gid = kept->gid;
  q->queue = kept->queue;
  q->tmp = kept->tmp;
  q->mess = kept->mess;
  q->borrowed = 1;
  return 0;
}

/* 1 when /proc/self/fd/FD is q->fd's file: then the commit links exactly
 * that inode, whatever any name says. */
static int proc_is_ours(queuewrite const *q)
{
  char path[14 + INT_FMT] = "/proc/self/fd/";
  struct stat st;
  path[14 + int_fmt(path + 14, q->fd)] = 0;
  return stat(path, &st) == 0 && st.st_dev == q->dev && st.st_ino == q->ino;
}

/* The fallback when the filesystem has no O_TMPFILE: tmp/ID, exclusive. */
static int create_named(queuewrite *q, int have)
{
  int tries;
  for (tries = 0; tries < TRIES; tries++)
  {
    if (!have || tries) queueid_new(q->id);
    memcpy(q->tmpname, q->id, sizeof q->tmpname);
    q->fd = openat(q->tmp, q->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (q->fd >= 0) { q->named = 1; return 0; }
    if (errno != EEXIST) break;
  }
  return fail(q, errno == ENOSPC || errno == EDQUOT ? QEXIT_WRITE : QEXIT_QUEUE, "create a file in queue/tmp");
}

int queuewrite_create(queuewrite *q, char const *proposed)
{
  struct stat st;
  int code;
  if (proposed) memcpy(q->id, proposed, QUEUEID_LEN + 1);
  else queueid_new(q->id);
  q->len = 0;
  q->pendn = 0;
  q->committed = q->named = 0;
  /* Unnamed: nobody can open, replace or link it before our commit, and a
   * crash leaves nothing to clean up. */
  q->fd = openat(q->tmp, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
  if (q->fd < 0)
  {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
      return fail(q, errno == ENOSPC || errno == EDQUOT ? QEXIT_WRITE : QEXIT_QUEUE, "create a file in queue/tmp");
    if ((code = create_named(q, !!proposed))) return code;
  }
  if (fstat(q->fd, &st) < 0) return fail(q, QEXIT_QUEUE, "check the new queue file");
  q->dev = st.st_dev;
  q->ino = st.st_ino;
  q->proc = proc_is_ours(q);
  if (!q->named && !q->proc)
  {
    /* an unnamed file can only be linked through /proc: use a name */
    close(q->fd);
    q->fd = -1;
    if ((code = create_named(q, !!proposed))) return code;
    if (fstat(q->fd, &st) < 0) return fail(q, QEXIT_QUEUE, "check the new queue file");
    q->dev = st.st_dev;
    q->ino = st.st_ino;
  }
  return 0;
}

static int put_pending(queuewrite *q)
{
  size_t n = q->pendn;
  q->pendn = 0;
  if (n && allwrite(q->fd, q->pend, n) < n)
    return fail(q, QEXIT_WRITE, "write the queue file");   /* EFBIG, ENOSPC, EDQUOT, EIO */
  return 0;
}

int queuewrite_put(queuewrite *q, char const *s, size_t n)
{
  int code;
  if (q->pendn + n > sizeof q->pend && (code = put_pending(q))) return code;
  if (!q->gather || n >= sizeof q->pend)
  {
    if (allwrite(q->fd, s, n) < n) return fail(q, QEXIT_WRITE, "write the queue file");
  }
  else
  {
    memcpy(q->pend + q->pendn, s, n);
    q->pendn += n;
  }
  q->len += n;
  return 0;
}

/* Just before the link: the descriptor's file is a regular file of ours,
 * as long as we wrote, with the links we expect; and tmp/ID, when we link
 * by that name, is still that file. */
static int verify(queuewrite *q, uint64_t size)
{
  struct stat st;
  if (fstat(q->fd, &st) < 0) return fail(q, QEXIT_QUEUE, "check the queue file");
  if (!S_ISREG(st.st_mode) || st.st_uid != q->uid || st.st_dev != q->dev || st.st_ino != q->ino
   || (uint64_t)st.st_size != size || st.st_nlink != (nlink_t)q->named)
    return refuse(q, "commit: the queue file was changed", "", "");
  if (q->named && !q->proc)
  {
    if (fstatat(q->tmp, q->tmpname, &st, AT_SYMLINK_NOFOLLOW) < 0) return fail(q, QEXIT_QUEUE, "check the queue file");
    if (st.st_dev != q->dev || st.st_ino != q->ino) return refuse(q, "commit: queue/tmp/", q->tmpname, " was replaced");
  }
  return 0;
}

/* One link is the commit. With /proc it names the descriptor's inode. */
static int link_into(queuewrite *q, int bucket)
{
  if (q->proc)
  {
    char path[14 + INT_FMT] = "/proc/self/fd/";
    path[14 + int_fmt(path + 14, q->fd)] = 0;
    return linkat(AT_FDCWD, path, bucket, q->id, AT_SYMLINK_FOLLOW);
  }
  return linkat(q->tmp, q->tmpname, bucket, q->id, 0);
}

int queuewrite_commit(queuewrite *q, char const *env, size_t envlen)
{
  char trailer[QUEUEFILE_TRAILER];
  int code, bucket = -1, tries;
  size_t pending = q->pendn;
  struct iovec v[3] = { { .iov_base = q->pend, .iov_len = pending }, { .iov_base = (char *)env, .iov_len = envlen },
                        { .iov_base = trailer, .iov_len = sizeof trailer } };
  queuefile_trailer(trailer, q->len);
  q->pendn = 0;
  if (allwritev(q->fd, v, 3) < pending + envlen + sizeof trailer) return fail(q, QEXIT_WRITE, "write the queue file");
  if (fsync(q->fd) < 0) return fail(q, QEXIT_WRITE, "fsync the queue file");
  if ((code = verify(q, q->len + envlen + sizeof trailer))) return code;
  for (tries = 0; tries < TRIES; tries++)
  {
    char hh[3];
    queueid_bucket(hh, q->id);
    if ((code = open_dir(q, q->mess, hh, "queue/mess/HH/", 1, 1, &bucket))) return code;
    if (link_into(q, bucket) == 0) break;
    close(bucket);
    bucket = -1;
    if (errno != EEXIST) return fail(q, errno == ENOSPC ? QEXIT_WRITE : QEXIT_QUEUE, "link into queue/mess");
    /* taken: only a stale file or a caller's proposal can cause it */
    queueid_new(q->id);
  }
  if (bucket < 0) return refuse(q, "find a free name in queue/mess", "", "");
  if (fsync(bucket) < 0)
  {
    int e = errno;
    unlinkat(bucket, q->id, 0);   /* not durable: do not let the caller believe it is */
    close(bucket);
    errno = e;
    return fail(q, QEXIT_WRITE, "fsync the queue directory");
  }
  close(bucket);
  q->committed = 1;
  if (q->named) unlinkat(q->tmp, q->tmpname, 0);
  return 0;
}

void queuewrite_trigger(queuewrite const *q)
{
  char line[QUEUEID_LEN + 1];
  int fd = openat(q->queue, "trigger", O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;   /* ENXIO: nobody listens, the scheduler scans anyway */
  memcpy(line, q->id, QUEUEID_LEN);
  line[QUEUEID_LEN] = '\n';
  /* EAGAIN (a full fifo): the scheduler, finding it full, scans everything */
  if (write(fd, line, sizeof line) < 0) {}
  close(fd);
}

void queuewrite_close(queuewrite *q)
{
  if (q->fd >= 0 && q->named && !q->committed) unlinkat(q->tmp, q->tmpname, 0);
  if (q->fd >= 0) close(q->fd);
  if (!q->borrowed)
  {
    if (q->mess >= 0) close(q->mess);
    if (q->tmp >= 0) close(q->tmp);
    if (q->queue >= 0) close(q->queue);
  }
  q->fd = q->mess = q->tmp = q->queue = -1;
  q->borrowed = 0;
}

int queuewrite_env_byte(queuewrite_env *e, char c)
{
  stralloc *sa = &e->sa;
  errno = 0;
  if (e->done) return QEXIT_ENVELOPE;   /* trailing bytes */
  if (!stralloc_catb(sa, &c, 1)) { errno = ENOMEM; return QEXIT_NOMEM; }
  if (sa->len - e->start == 1)
  {
    if (!c && e->start) { e->done = 1; return 0; }   /* the final empty record */
    /* M and N (DSN parameters, lib/dsn.h) are checked by envelope_parse */
    if (e->start ? (c != 'T' && c != 'M' && c != 'N') : c != 'F') return QEXIT_ENVELOPE;
  }
  else if (!c) e->start = sa->len;
  else if (sa->len - e->start > ENVELOPE_ADDR_MAX + 1) return QEXIT_ADDR_TOO_LONG;
  return 0;
}

int queuewrite_env_check(queuewrite_env const *e)
{
  envelope v = ENVELOPE_ZERO;
  int r;
  if (!e->done) { errno = 0; return QEXIT_ENVELOPE; }
  r = envelope_parse(&v, e->sa.s, e->sa.len, 1);
  envelope_free(&v);
  if (r < 0) { errno = ENOMEM; return QEXIT_NOMEM; }
  if (!r) { errno = 0; return QEXIT_ENVELOPE; }
  return 0;
}

int queuewrite_env_read(queuewrite_env *e, int fd, char const **what)
{
  static char const *const why[] = { "accept an address that long", "parse the envelope", "store the envelope" };
  char bufspace[4096];
  buffer b = BUFFER_INIT(&buffer_read, fd, bufspace, sizeof bufspace);
  int code;
  /* byte by byte, and not one past the end: nothing after it is waited for */
  while (!e->done)
  {
    char c;
    ssize_t r = buffer_get(&b, &c, 1);
    if (r < 1) { if (!r) errno = EPIPE; *what = "read the envelope"; return QEXIT_READ; }
    code = queuewrite_env_byte(e, c);
    if (code) { *what = why[code == QEXIT_ADDR_TOO_LONG ? 0 : code == QEXIT_ENVELOPE ? 1 : 2]; return code; }
  }
  *what = "parse the envelope";
  return queuewrite_env_check(e);
}
