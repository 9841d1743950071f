/* tern-queue.c: puts one message into the queue, durably (qmail-queue's interface).
 *
 * Interface: the message on fd 0 (LF line ends), the envelope on fd 1
 * (`Fsender\0Trcpt\0...\0\0`, lib/envelope.h); exit codes in lib/qexit.h.
 * Writes queue/tmp/ID (message | envelope | trailer, lib/queuefile.h), fsyncs
 * it, links it to queue/mess/HH/ID (the one atomic commit), fsyncs mess/HH,
 * removes tmp/ID and pokes queue/trigger without blocking.
 *
 * SECURITY: installed setuid to the queue owner; it trusts nothing on fds
 * 0/1, runs nothing, and writes only under $TERN_HOME/queue. The envelope is
 * checked record by record; an address longer than ENVELOPE_ADDR_MAX ends it
 * with 11. Killed at any instant it leaves either nothing in mess/ or a whole
 * file: a tmp/ leftover is removed by tern-send's scan. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "envelope.h"
#include "qexit.h"
#include "queuefile.h"

#define USAGE "tern-queue (message on fd 0, envelope on fd 1)"
#define QUEUE_TIMEOUT 86400
#define IDLEN 16

/* The tmp file to remove when we give up; a signal handler needs it. */
static char tmpname[4 + IDLEN + 1];

static void cleanup_die(int code, char const *what)
{
  int e = errno;
  if (tmpname[0]) unlink(tmpname);
  errno = e;
  strerr_warnwu(what, errno ? ": " : "", errno ? strerror(errno) : "");
  _exit(code);
}

static void on_alarm(int sig)
{
  (void)sig;
  if (tmpname[0]) unlink(tmpname);
  _exit(QEXIT_TIMEOUT);
}

static int is_lowhex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The caller (tern-smtpd) may propose the ID so that its Received header and
 * log name the file; we take it only when it is exactly 16 lowercase hex. */
static int proposed_id(char *id)
{
  char const *p = getenv("TERN_QUEUEID");
  size_t i;
  if (!p || strlen(p) != IDLEN) return 0;
  for (i = 0; i < IDLEN; i++) if (!is_lowhex(p[i])) return 0;
  memcpy(id, p, IDLEN + 1);
  return 1;
}

static int open_tmp(char *id)
{
  int tries, fd;
  int have = proposed_id(id);
  for (tries = 0; tries < 20; tries++)
  {
    if (!have || tries) queuefile_newid(id);
    memcpy(tmpname, "tmp/", 4);
    memcpy(tmpname + 4, id, IDLEN + 1);
    fd = open(tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd >= 0) return fd;
    tmpname[0] = 0;
    if (errno != EEXIST) break;
  }
  if (errno == ENOSPC || errno == EDQUOT) cleanup_die(QEXIT_WRITE, "create a file in queue/tmp");
  cleanup_die(QEXIT_QUEUE, "create a file in queue/tmp");
  return -1;
}

static void write_all(int fd, char const *s, size_t n)
{
  if (allwrite(fd, s, n) < n) cleanup_die(QEXIT_WRITE, "write the queue file");
}

/* Copies fd 0 into the queue file; returns the message length. */
static uint64_t copy_message(int fd)
{
  char buf[65536];
  uint64_t len = 0;
  for (;;)
  {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; cleanup_die(QEXIT_READ, "read the message"); }
    if (!r) return len;
    write_all(fd, buf, (size_t)r);
    len += (uint64_t)r;
  }
}

/* Reads the envelope from fd 1 up to its final empty record, checking each
 * record as it comes, so a writer that keeps the pipe open is not waited on. */
static void read_envelope(stralloc *sa)
{
  char bufspace[4096];
  buffer b = BUFFER_INIT(&buffer_read, 1, bufspace, sizeof bufspace);
  size_t start = 0;
  for (;;)
  {
    char c;
    ssize_t r = buffer_get(&b, &c, 1);
    if (r < 1) { if (!r) errno = EPIPE; cleanup_die(QEXIT_READ, "read the envelope"); }
    if (!stralloc_catb(sa, &c, 1)) cleanup_die(QEXIT_NOMEM, "store the envelope");
    if (sa->len - start == 1)
    {
      if (!c && start) return;   /* the final empty record */
      if (c != (start ? 'T' : 'F')) { errno = 0; cleanup_die(QEXIT_ENVELOPE, "parse the envelope"); }
    }
    else if (!c) start = sa->len;
    else if (sa->len - start > ENVELOPE_ADDR_MAX + 1)
    { errno = 0; cleanup_die(QEXIT_ADDR_TOO_LONG, "accept an address that long"); }
  }
}

static void check_envelope(stralloc *sa)
{
  envelope e = ENVELOPE_ZERO;
  int r = envelope_parse(&e, sa->s, sa->len, 1);
  envelope_free(&e);
  if (r < 0) cleanup_die(QEXIT_NOMEM, "parse the envelope");
  if (!r) { errno = 0; cleanup_die(QEXIT_ENVELOPE, "parse the envelope"); }
}

static void fsync_dir(char const *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) cleanup_die(QEXIT_WRITE, "fsync a queue directory");
  close(fd);
}

/* The commit: one link into mess/HH/. On EEXIST (an ID taken in mess/ but
 * not in tmp/, which only a stale file can cause) we pick another name. */
static void commit(char *id)
{
  char dir[8], path[8 + IDLEN + 2];
  int tries;
  for (tries = 0; tries < 20; tries++)
  {
    memcpy(dir, "mess/", 5); dir[5] = id[IDLEN - 2]; dir[6] = id[IDLEN - 1]; dir[7] = 0;
    memcpy(path, dir, 7); path[7] = '/'; memcpy(path + 8, id, IDLEN + 1);
    if (mkdir(dir, 0750) == 0) fsync_dir("mess");
    else if (errno != EEXIST) cleanup_die(QEXIT_QUEUE, "create a queue directory");
    if (link(tmpname, path) == 0) break;
    if (errno != EEXIST) cleanup_die(errno == ENOSPC ? QEXIT_WRITE : QEXIT_QUEUE, "link into queue/mess");
    queuefile_newid(id);
  }
  if (tries == 20) cleanup_die(QEXIT_QUEUE, "find a free name in queue/mess");
  {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
    {
      unlink(path);   /* not durable: do not let the caller believe it is */
      cleanup_die(QEXIT_WRITE, "fsync the queue directory");
    }
    close(fd);
  }
}

/* "ID\n": the scheduler loads that one message instead of scanning the
 * whole queue (docs/INTERNALS.md). 17 bytes: one atomic write. */
static void trigger(char const *id)
{
  char line[IDLEN + 1];
  int fd = open("trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;   /* ENXIO: nobody listens, the scheduler scans anyway */
  memcpy(line, id, IDLEN);
  line[IDLEN] = '\n';
  /* EAGAIN (a full fifo): the scheduler, finding it full, scans everything */
  if (write(fd, line, sizeof line) < 0) {}
  close(fd);
}

int main(int argc, char const *const *argv)
{
  stralloc sa = STRALLOC_ZERO;
  char id[IDLEN + 1];
  char trailer[QUEUEFILE_TRAILER];
  uint64_t len;
  int fd;
  PROG = "tern-queue";
  (void)argc; (void)argv;
  umask(027);
  sig_ignore(SIGPIPE);
  sig_catch(SIGALRM, &on_alarm);
  alarm(QUEUE_TIMEOUT);
  if (chdir(tern_home()) < 0) cleanup_die(QEXIT_HOME, "chdir to TERN_HOME");
  if (chdir("queue") < 0) cleanup_die(QEXIT_QUEUE, "chdir to queue");
  fd = open_tmp(id);
  len = copy_message(fd);
  read_envelope(&sa);
  check_envelope(&sa);
  write_all(fd, sa.s, sa.len);
  stralloc_free(&sa);
  queuefile_trailer(trailer, len);
  write_all(fd, trailer, sizeof trailer);
  if (fsync(fd) < 0 || close(fd) < 0) cleanup_die(QEXIT_WRITE, "fsync the queue file");
  commit(id);
  unlink(tmpname);
  tmpname[0] = 0;
  trigger(id);
  return QEXIT_OK;
}
