/* nametab.h: a string-keyed table with a fixed cap, for the log summary's
 * top lists and the deliveries it waits to see end. */
#ifndef TERN_NAMETAB_H
#define TERN_NAMETAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct nameent_s nameent;
struct nameent_s
{
  nameent *next;
  uint64_t n;     /* a count, or what the user of the table keeps */
  int64_t t;      /* a time, or what the user of the table keeps */
  size_t len;
  char key[];
};

typedef struct nametab_s nametab;
struct nametab_s
{
  nameent **b;
  size_t nb, count, cap;
  uint64_t dropped;   /* names not kept because the table was full */
};
#define NAMETAB_ZERO { 0, 0, 0, 0, 0 }

extern int nametab_init(nametab *, size_t cap);
extern void nametab_free(nametab *);
/* The entry for key, made if absent (0 when full or out of memory: dropped). */
extern nameent *nametab_get(nametab *, char const *key, size_t len);
extern nameent *nametab_find(nametab const *, char const *key, size_t len);
extern void nametab_del(nametab *, char const *key, size_t len);
/* The n entries with the highest counts, highest first; returns how many. */
extern size_t nametab_top(nametab const *, nameent const **out, size_t n);
typedef void nametab_fn(nameent const *, void *);
extern void nametab_each(nametab const *, nametab_fn *, void *);

#endif
