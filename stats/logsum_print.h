/* logsum_print.h: the log summary as text. */
#ifndef TERN_LOGSUM_PRINT_H
#define TERN_LOGSUM_PRINT_H

#include <skalibs/buffer.h>
#include "logsum.h"

/* top: how many names each top list shows. 0 on a write error. */
extern int logsum_print(buffer *, logsum const *, unsigned int top);
/* "123 ms", "4.2 s", "3 min", "5 h": a delay for people. */
extern size_t logsum_fmtdelay(char *, uint64_t ms);
/* The delay below which a fraction (per mille) of the counted ones fall,
 * from the fine histogram of h (a bucket's upper bound). */
extern uint64_t logsum_percentile(uint64_t const *h, unsigned int permille);

#endif
