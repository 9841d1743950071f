/* send_orphan.c: the job files an earlier tern-send left in queue/job
 * (docs/delivery.md, "Job files"): the results of runs that ended go to the
 * state files; runs still going are kept as orphans, whose recipients stay
 * busy until their lock comes free (send_result.c, sched_orphans). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "statefile.h"
#include "send.h"

void orphan_drop(sendq *q, size_t i)
{
  job *o = genalloc_s(job, &q->orphans) + i;
  size_t n = genalloc_len(job, &q->orphans);
  stralloc_free(&o->out);
  stralloc_free(&o->path);
  memmove(o, o + 1, (n - i - 1) * sizeof *o);
  genalloc_setlen(job, &q->orphans, n - 1);
}

typedef struct recoverctx_s recoverctx;
struct recoverctx_s { sendq *q; uint64_t now; };

static void recover_one(char const *dir, char const *name, void *data)
{
  recoverctx *x = data;
  sendq *q = x->q;
  job j;
  struct stat st;
  memset(&j, 0, sizeof j);
  j.pfd = -1;
  if (!stralloc_cats(&j.path, dir) || !stralloc_catb(&j.path, "/", 1) || !stralloc_cats(&j.path, name)
   || !stralloc_0(&j.path)) goto end;
  j.fd = open(j.path.s, O_RDWR | O_CLOEXEC);
  if (j.fd < 0) { strerr_warnwusys("open ", j.path.s); goto end; }
  if (flock(j.fd, LOCK_EX | LOCK_NB) == 0)
  {
    /* the run ended; an empty file is a slot that was idle */
    int sized = fstat(j.fd, &st) == 0 && st.st_size > 0, parsed = sized && job_file_parse(&j);
    if (sized && !parsed) strerr_warnw("removed malformed job file ", j.path.s);
    if (!parsed || job_record(&j, x->now)) { job_file_drop(&j); goto end; }
    /* records the state file cannot take now (disk full): into memory at
     * the first poll, as a running orphan's would be */
  }
  else if (!job_file_parse(&j))
  {
    /* empty: the slot of a batch run between two messages, which ends
     * now that its tern-send is gone: removed once its lock comes free */
    if (fstat(j.fd, &st) < 0 || st.st_size > 0)
    {
      strerr_warnw("job file ", j.path.s, " is locked but malformed: left alone");
      fd_close(j.fd);
      goto end;
    }
    j.n = 0;
    j.id[0] = 0;
  }
  else send_log("msg ", j.id, ": a delivery started by an earlier tern-send is still running: waiting for its results");
  /* sched_orphans finishes it once its lock comes free */
  j.pid = -1;
  if (!genalloc_append(job, &q->orphans, &j)) { fd_close(j.fd); goto end; }
  return;
 end:
  stralloc_free(&j.out);
  stralloc_free(&j.path);
}

void orphans_recover(sendq *q, uint64_t now)
{
  recoverctx x = { .q = q, .now = now };
  queueid_each("job", 1, &recover_one, &x);
}

int orphan_ended(job const *o)
{
  return flock(o->fd, LOCK_EX | LOCK_NB) == 0;
}
