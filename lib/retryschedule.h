/* retryschedule.h: control/retryschedule, the waits between the tries of
 * a recipient (docs/delivery.md, "Retries"): seconds after the 1st, 2nd,
 * ... temporary failure, separated by blanks or newlines, the last value
 * repeating. tern-send schedules by it; tern-qread shows the next try. */
#ifndef TERN_RETRYSCHEDULE_H
#define TERN_RETRYSCHEDULE_H

#include <stdint.h>

#define RETRYSCHEDULE_MAX 64   /* values kept */

/* Reads control/retryschedule into wait (at most max values; *n set),
 * or the default when it is missing or holds no number. -1 on error. */
extern int retryschedule_load(unsigned int *wait, unsigned int max, unsigned int *n);

/* The wait after the tries-th failure (0 for no failure yet). */
extern uint64_t retryschedule_delay(unsigned int const *wait, unsigned int n, unsigned int tries);

#endif
