/* send_job.c: job files (queue/job/PID.SLOT): each delivery program writes
 * its report into its slot's file, not a pipe, so that the results of
 * deliveries still running when tern-send dies are read by the next
 * tern-send instead of being lost and delivered again (docs/delivery.md,
 * "Job files").
 *
 * A run's file holds a header line "ID l|r IDX IDX...\n" (written by
 * tern-send) and then the program's records (lib/report.h); between runs it
 * is empty. tern-send holds a flock(2) on it and each run shares it: flock,
 * not skalibs' fd_lock (fcntl record locks), because a flock belongs to the
 * open file description, which the delivery program gets as its fd 1 across
 * fork and exec. Once tern-send is dead, a locked file is a delivery still
 * running; an unlocked one holds a finished report, or nothing. */
#define _GNU_SOURCE   /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "report.h"
#include "statefile.h"
#include "jobmsg.h"
#include "pspawn.h"
#include "send.h"

#define JOB_OUT_MAX (SEND_JOB_RCPTS * (REPORT_TEXT_MAX + 2))
#define JOB_HDR_MAX (QUEUEID_LEN + 4 + SEND_JOB_RCPTS * (UINT64_FMT + 1))

int job_dir_init(void)
{
  stralloc p = STRALLOC_ZERO;
  int r = tern_path(&p, "queue/job") && (mkdir(p.s, 0700) == 0 || errno == EEXIST) ? 0 : -1;
  stralloc_free(&p);
  return r;
}

static int job_header(stralloc *sa, char const *id, int local, size_t const *idx, size_t n)
{
  size_t k;
  if (!stralloc_cats(sa, id) || !stralloc_cats(sa, local ? " l" : " r")) return 0;
  for (k = 0; k < n; k++)
  {
    char fmt[UINT64_FMT];
    if (!stralloc_catb(sa, " ", 1) || !stralloc_catb(sa, fmt, uint64_fmt(fmt, (uint64_t)idx[k]))) return 0;
  }
  return stralloc_catb(sa, "\n", 1);
}

/* The slot's own job file, made at its first run and kept: reusing it costs
 * no directory update per delivery (a create and an unlink each time cost
 * a quarter of the local delivery rate on ext4). */
static int job_file_make(job *j)
{
  unsigned int tries;
  for (tries = 0; j->fd < 0 && tries < 100; tries++)
  {
    char fmt[ULONG_FMT];
    if (!tern_path(&j->path, "queue/job/")) return 0;
    j->path.len--;
    if (!stralloc_catb(&j->path, fmt, ulong_fmt(fmt, (unsigned long)getpid())) || !stralloc_catb(&j->path, ".", 1)
     || !stralloc_catb(&j->path, fmt, ulong_fmt(fmt, j->slot + 1000UL * tries)) || !stralloc_0(&j->path)) return 0;
    j->fd = open(j->path.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (j->fd < 0 && errno != EEXIST) return 0;
  }
  if (j->fd < 0) return 0;
  /* held from now on; each run inherits it with the file */
  if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) { job_file_drop(j); return 0; }
  return 1;
}

/* Empties the file for the next run; a file that cannot be emptied is not
 * used again (stale records must never be read as a later run's). */
static void job_file_clear(job *j)
{
  if (ftruncate(j->fd, 0) < 0 || lseek(j->fd, 0, SEEK_SET) < 0)
  {
    strerr_warnwusys("empty ", j->path.s);
    job_file_drop(j);
  }
}

void job_file_drop(job *j)
{
  if (j->fd < 0) return;
  if (unlink(j->path.s) < 0 && errno != ENOENT) strerr_warnwusys("remove ", j->path.s);
  fd_close(j->fd);
  j->fd = -1;
}

static int job_file_start(job *j, char const *id)
{
  stralloc hdr = STRALLOC_ZERO;
  int ok = 0;
  if (j->fd < 0 && !job_file_make(j)) goto end;
  if (!job_header(&hdr, id, j->local, j->idx, j->n)) goto end;
  /* The room for the records is taken now: a run that could not write its
   * report after delivering (queue disk full) would deliver again at each
   * retry. Filesystems without fallocate go on without that guarantee. */
  if (allwrite(j->fd, hdr.s, hdr.len) < hdr.len
   || (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)hdr.len, (off_t)(j->n * (REPORT_TEXT_MAX + 2))) < 0
       && errno != EOPNOTSUPP && errno != ENOSYS))
  {
    int e = errno;
    job_file_clear(j);
    errno = e;
    goto end;
  }
  j->hdrlen = hdr.len;
  ok = 1;
 end:
  stralloc_free(&hdr);
  if (!ok) strerr_warnwusys("write a job file for msg ", id, ": its report comes through a pipe");
  return ok;
}

/* Without a job file (the queue's disk is full, say) the report comes
 * through a pipe, as before job files: a full disk must not stop the
 * deliveries that empty it. Such a run's results are lost if tern-send dies
 * before it ends. */
static int job_report_fd(job *j, char const *id)
{
  int p[2];
  j->pipe = 0;
  if (job_file_start(j, id)) return j->fd;
  if (pipecoe(p) < 0) { strerr_warnwusys("create a pipe"); return -1; }
  ndelay_on(p[0]);
  j->pfd = p[0];
  j->pipe = 1;
  return p[1];
}

void job_pipe_read(job *j)
{
  char buf[4096];
  for (;;)
  {
    ssize_t r = read(j->pfd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return;
    if (r <= 0) { fd_close(j->pfd); j->pfd = -1; return; }
    /* A runaway program cannot grow our memory: the excess is dropped. */
    if (j->out.len + (size_t)r <= JOB_OUT_MAX) stralloc_catb(&j->out, buf, (size_t)r);
  }
}

static void job_report_abort(job *j, int wfd)
{
  if (j->pipe) { fd_close(wfd); fd_close(j->pfd); j->pfd = -1; }
  else job_file_clear(j);
}

/* The records after the header, at most JOB_OUT_MAX bytes of them. */
static void job_file_read(job *j)
{
  char buf[4096];
  off_t off = (off_t)j->hdrlen;
  j->out.len = 0;
  while (j->out.len < JOB_OUT_MAX)
  {
    ssize_t r = pread(j->fd, buf, sizeof buf, off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (!stralloc_catb(&j->out, buf, (size_t)r)) break;
    off += r;
  }
  if (j->out.len > JOB_OUT_MAX) j->out.len = JOB_OUT_MAX;
}

void job_collect(job *j)
{
  if (!j->pipe) job_file_read(j);
}

void job_reset(job *j)
{
  if (j->pipe) return;
  if (j->pid < 0) job_file_drop(j);   /* an earlier tern-send's file: not reused */
  else job_file_clear(j);
}

/* --- starting runs --- */

static int queue_open(char const *id)
{
  stralloc path = STRALLOC_ZERO;
  int fd = queueid_path(&path, "mess", id) ? open(path.s, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) strerr_warnwusys("open msg ", id);
  stralloc_free(&path);
  return fd;
}

int job_start_classic(job *j, msg const *m, char const *domain)
{
  char const *argv[SEND_JOB_RCPTS + 4];
  size_t n = 0, k;
  int qfd = queue_open(m->id), wfd;
  if (qfd < 0) return 0;
  wfd = job_report_fd(j, m->id);
  if (wfd < 0) { fd_close(qfd); return 0; }
  argv[n++] = j->local ? "tern-local" : "tern-remote";
  if (!j->local) argv[n++] = domain;
  argv[n++] = m->e.sender;
  for (k = 0; k < j->n; k++) argv[n++] = envelope_rcpt(&m->e, j->idx[k]);
  argv[n] = 0;
  /* fd 1: the job file (the run shares its lock) or the pipe */
  j->pid = pspawn_fd01(argv, qfd, wfd);
  fd_close(qfd);
  if (j->pid < 0)
  {
    j->pid = 0;
    strerr_warnwusys("run ", argv[0]);
    job_report_abort(j, wfd);
    return 0;
  }
  if (j->pipe) fd_close(wfd);
  j->batch = 0;
  j->sock = -1;
  j->exited = 0;
  j->out.len = 0;
  return 1;
}

/* Sends the job of m (its header already in the job file) with the queue
 * file. 1 given; 0 not: the file emptied, the run closed. */
static int give(job *j, msg const *m, char const *domain)
{
  stralloc rec = STRALLOC_ZERO;
  jobmsg jm;
  size_t k;
  int qfd = -1, ok = 0;
  memset(&jm, 0, sizeof jm);
  jm.type = 'M';
  memcpy(jm.id, m->id, QUEUEID_LEN + 1);
  memcpy(jm.domain, domain, strlen(domain));
  for (k = 0; k < j->n; k++) jm.idx[k] = j->idx[k];
  jm.n = j->n;
  if (jobmsg_fmt(&rec, &jm) && (qfd = queue_open(m->id)) >= 0)
  {
    if (jobmsg_send(j->sock, rec.s, rec.len, qfd) < 0) strerr_warnwusys("hand msg ", m->id, " to tern-remote");
    else ok = 1;
    fd_close(qfd);
  }
  stralloc_free(&rec);
  if (!ok)
  {
    job_file_clear(j);
    job_close(j);
    return 0;
  }
  j->done = 0;
  j->out.len = 0;
  j->count++;
  return 1;
}

int job_start_batch(job *j, char const *route, uint64_t now, msg const *m, char const *domain)
{
  char const *argv[3] = { "tern-remote", "-b", 0 };
  int sv[2];
  if (strlen(domain) > JOBMSG_DOMAIN_MAX) return 0;
  /* no job file, no batch run: the caller's one-shot run reports through a pipe */
  if (j->fd < 0 && !job_file_make(j)) return 0;
  if (!job_file_start(j, m->id)) return 0;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
  {
    strerr_warnwusys("create a socketpair");
    job_file_clear(j);
    return 0;
  }
  /* fd 0: its end of the socket; fd 1: the slot's job file, whose lock it
   * shares for as long as it runs */
  j->pid = pspawn_fd01(argv, sv[1], j->fd);
  fd_close(sv[1]);
  if (j->pid < 0)
  {
    j->pid = 0;
    fd_close(sv[0]);
    job_file_clear(j);
    strerr_warnwusys("run tern-remote -b");
    return 0;
  }
  ndelay_on(sv[0]);
  j->sock = sv[0];
  j->batch = 1;
  j->pipe = 0;
  j->exited = 0;
  j->born = now;
  j->count = 0;
  j->m = 0;
  if (!stralloc_copys(&j->route, route) || !stralloc_0(&j->route)) j->route.len = 0;
  return give(j, m, domain) ? 1 : -1;
}

int job_give(job *j, msg const *m, char const *domain)
{
  if (j->sock < 0 || strlen(domain) > JOBMSG_DOMAIN_MAX) return 0;
  /* the header first: from now on a restart knows whose records follow */
  if (!job_file_start(j, m->id)) { job_close(j); return 0; }
  return give(j, m, domain);
}

void job_close(job *j)
{
  if (j->sock >= 0) fd_close(j->sock);
  j->sock = -1;
}

void job_sock_read(job *j)
{
  char buf[JOBMSG_MAX + 1];
  jobmsg jm;
  ssize_t r;
  for (;;)
  {
    r = jobmsg_recv(j->sock, buf, sizeof buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r < 0 || !r) break;
    /* only the "D" for the message it carries; anything else ends it */
    if (!jobmsg_parse(&jm, buf, (size_t)r) || jm.type != 'D' || !j->m || j->done || strcmp(jm.id, j->m->id))
    {
      strerr_warnw("unexpected record from tern-remote -b (", j->path.s, "): the run is closed");
      break;
    }
    j->done = 1;
  }
  job_close(j);
}

/* --- the next tern-send: job files an earlier one left --- */

/* Reads the header of j's job file into j. 1 ok, 0 malformed. */
int job_file_parse(job *j)
{
  char buf[JOB_HDR_MAX];
  ssize_t r = pread(j->fd, buf, sizeof buf - 1, 0);
  char *nl, *s;
  if (r <= 0) return 0;
  buf[r] = 0;
  nl = memchr(buf, '\n', (size_t)r);
  if (!nl || nl - buf < QUEUEID_LEN + 2 || buf[QUEUEID_LEN] != ' ') return 0;
  *nl = 0;
  memcpy(j->id, buf, QUEUEID_LEN);
  j->id[QUEUEID_LEN] = 0;
  s = buf + QUEUEID_LEN + 1;
  if ((*s != 'l' && *s != 'r') || (s[1] && s[1] != ' ')) return 0;
  j->local = *s++ == 'l';
  for (j->n = 0; *s == ' ' && j->n < SEND_JOB_RCPTS; j->n++)
  {
    uint64_t u;
    size_t k = uint64_scan(++s, &u);
    if (!k) return 0;
    j->idx[j->n] = (size_t)u;
    s += k;
  }
  if (*s || !j->n || !queueid_is(j->id)) return 0;
  {
    /* each recipient once: the counts of busy and pending depend on it */
    size_t a, b;
    for (a = 0; a < j->n; a++)
      for (b = a + 1; b < j->n; b++) if (j->idx[a] == j->idx[b]) return 0;
  }
  j->hdrlen = (size_t)(nl - buf) + 1;
  return 1;
}

/* A finished run whose message is not in memory: its records go straight
 * into the state file, where the scan will read them. */
/* 1 recorded (or nothing to record: no records, message gone), 0 not. */
int job_record(job *j, uint64_t now)
{
  report r[SEND_JOB_RCPTS];
  stralloc rec = STRALLOC_ZERO, path = STRALLOC_ZERO;
  size_t nr, k;
  int bad, ok = 0;
  job_file_read(j);
  nr = report_parse(r, j->n, j->out.s, j->out.len, &bad);
  /* A recipient without a record is simply tried again. */
  for (k = 0; k < nr; k++)
    if (!statefile_fmt(&rec, r[k].status, j->idx[k], now, r[k].text)) goto end;
  ok = 1;
  if (!rec.len || !sendq_mess_exists(j->id)) goto end;
  if (!queueid_path(&path, "state", j->id) || statefile_append(path.s, rec.s, rec.len) < 0)
  {
    strerr_warnwusys("record the results in ", j->path.s);
    ok = 0;
    goto end;
  }
  send_log("msg ", j->id, ": recorded the results of a delivery that ended while tern-send was down");
 end:
  stralloc_free(&rec);
  stralloc_free(&path);
  return ok;
}

