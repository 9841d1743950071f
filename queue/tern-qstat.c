/* tern-qstat: counts the messages in the queue (like qmail-qstat). */
#include <string.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "queuectl.h"
#include "queueid.h"

#define USAGE "tern-qstat"

typedef struct counts_s counts;
struct counts_s { unsigned long mess, fresh; };

/* A message with no state file has not been tried yet. */
static void count(char const *dir, char const *name, void *data)
{
  counts *c = data;
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  (void)dir;
  c->mess++;
  if (queueid_path(&p, "state", name) && stat(p.s, &st) < 0) c->fresh++;
  stralloc_free(&p);
}

static void line(char const *label, unsigned long n)
{
  char fmt[ULONG_FMT];
  buffer_puts(buffer_1, label);
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, n));
  buffer_puts(buffer_1, "\n");
}

int main(int argc, char const *const *argv)
{
  counts c = { 0, 0 };
  PROG = "tern-qstat";
  (void)argv;
  if (argc > 1) strerr_dieusage(100, USAGE);
  queuectl_require();
  queueid_each("mess", 0, &count, &c);
  line("messages in queue: ", c.mess);
  line("messages in queue but not yet tried: ", c.fresh);
  if (!buffer_flush(buffer_1)) strerr_diefusys(111, "write to stdout");
  return 0;
}
