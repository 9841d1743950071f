/* statefile.h: tern-send's per-recipient records, queue/state/HH/ID
 * (docs/delivery.md). Text lines, appended and fsync'd, the last record for
 * a recipient wins:
 *   K idx time text\n    delivered
 *   D idx time text\n    failed permanently (to bounce)
 *   Z idx time text\n    deferred (one more try counted)
 *   B 0 time text\n      the report (bounce, success) for this message was queued (or dropped)
 *   W 0 time text\n      its delay report was queued (or dropped): no second one
 * idx is the recipient's position in the envelope (from 0), time seconds
 * since the epoch. A last line without '\n' (a crash while writing) is
 * ignored, so its outcome is simply tried again. Read by tern-send and
 * tern-qread. */
#ifndef TERN_STATEFILE_H
#define TERN_STATEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

typedef struct staterc_s staterc;
struct staterc_s
{
  char status;        /* 0 no record yet, 'K', 'D', 'Z' */
  unsigned int tries; /* Z records seen */
  uint64_t last;      /* time of the last record */
  size_t text;        /* offset of the last text in the texts stralloc, or (size_t)-1 */
};

/* Appends one record to sa (text: controls become '?', cut at 1000 bytes). */
extern int statefile_fmt(stralloc *sa, char status, size_t idx, uint64_t when, char const *text);

/* Appends sa to the state file at path, creating it, fsyncs the file (and the
 * directory when it was created). 1 ok, -1 error. */
extern int statefile_append(char const *path, char const *s, size_t n);

/* fsyncs the directory that holds path (after a create, rename or unlink
 * there). 0 ok, -1 error. */
extern int statefile_sync_parent(char const *path);

#define STATEFILE_BOUNCED 1   /* a B record */
#define STATEFILE_WARNED 2    /* a W record */
/* Reads the state file at path into r[0..n) (zeroed first) and texts (the
 * last text of each recipient, K too); *bounced gets STATEFILE_ flags. 1 read, 0 no file, -1 error.
 * Records for an index >= n are ignored. */
extern int statefile_read(char const *path, staterc *r, size_t n, stralloc *texts, int *bounced);

#endif
