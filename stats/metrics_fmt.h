/* metrics_fmt.h: a logsum and the queue as Prometheus text exposition. */
#ifndef TERN_METRICS_FMT_H
#define TERN_METRICS_FMT_H

#include <skalibs/stralloc.h>
#include "logsum.h"

typedef struct metrics_queue_s metrics_queue;
struct metrics_queue_s
{
  int ok;                  /* the queue could be read */
  uint64_t messages;
  uint64_t oldest_age;     /* seconds */
};

extern int metrics_fmt(stralloc *, logsum const *, metrics_queue const *);
/* Counts queue/mess/ (needs read access to it: docs/metrics.md). */
extern void metrics_queue_read(metrics_queue *, int64_t now);

#endif
