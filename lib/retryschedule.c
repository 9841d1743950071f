/* retryschedule.c: reading control/retryschedule (retryschedule.h). */
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "control.h"
#include "retryschedule.h"

/* 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, then every 4 h */
static unsigned int const retry_default[] = { 60, 300, 900, 1800, 3600, 7200, 14400 };

int retryschedule_load(unsigned int *wait, unsigned int max, unsigned int *n)
{
  stralloc sa = STRALLOC_ZERO;
  size_t i = 0;
  int r = control_readlines(&sa, "retryschedule");
  *n = 0;
  if (r < 0) { stralloc_free(&sa); return -1; }
  /* Numbers separated by blanks or lines. */
  for (i = 0; i < sa.len && *n < max; )
  {
    unsigned int u;
    size_t k = uint_scan(sa.s + i, &u);
    if (!k) { i++; continue; }
    wait[(*n)++] = u;
    i += k;
  }
  stralloc_free(&sa);
  if (!*n)
  {
    *n = sizeof retry_default / sizeof *retry_default;
    if (*n > max) *n = max;
    memcpy(wait, retry_default, *n * sizeof *wait);
  }
  return 1;
}

uint64_t retryschedule_delay(unsigned int const *wait, unsigned int n, unsigned int tries)
{
  if (!tries || !n) return 0;
  return wait[tries - 1 < n ? tries - 1 : n - 1];
}
