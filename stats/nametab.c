/* nametab.c: a chained hash table of names with a cap on how many it keeps,
 * so that a log of any size cannot grow the summary's memory past it. */
#include <stdlib.h>
#include <string.h>
#include "nametab.h"

static uint64_t hash(char const *s, size_t len)
{
  uint64_t h = 1469598103934665603ULL;
  size_t i;
  for (i = 0; i < len; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
  return h;
}

int nametab_init(nametab *t, size_t cap)
{
  size_t nb = 64;
  while (nb < cap && nb < ((size_t)1 << 20)) nb <<= 1;
  t->b = calloc(nb, sizeof *t->b);
  if (!t->b) return 0;
  t->nb = nb;
  t->count = 0;
  t->cap = cap;
  t->dropped = 0;
  return 1;
}

void nametab_free(nametab *t)
{
  size_t i;
  for (i = 0; i < t->nb; i++)
  {
    nameent *e = t->b[i];
    while (e) { nameent *n = e->next; free(e); e = n; }
  }
  free(t->b);
  t->b = 0;
  t->nb = t->count = 0;
}

static nameent **slot(nametab const *t, char const *key, size_t len)
{
  nameent **p = &t->b[hash(key, len) & (t->nb - 1)];
  while (*p && ((*p)->len != len || memcmp((*p)->key, key, len))) p = &(*p)->next;
  return p;
}

nameent *nametab_find(nametab const *t, char const *key, size_t len)
{
  return t->nb ? *slot(t, key, len) : 0;
}

nameent *nametab_get(nametab *t, char const *key, size_t len)
{
  nameent **p, *e;
  if (!t->nb) return 0;
  p = slot(t, key, len);
  if (*p) return *p;
  if (t->count >= t->cap || !(e = malloc(sizeof *e + len + 1))) { t->dropped++; return 0; }
  e->next = 0;
  e->n = 0;
  e->t = 0;
  e->len = len;
  memcpy(e->key, key, len);
  e->key[len] = 0;
  *p = e;
  t->count++;
  return e;
}

void nametab_del(nametab *t, char const *key, size_t len)
{
  nameent **p, *e;
  if (!t->nb) return;
  p = slot(t, key, len);
  if (!*p) return;
  e = *p;
  *p = e->next;
  free(e);
  t->count--;
}

void nametab_each(nametab const *t, nametab_fn *fn, void *data)
{
  size_t i;
  nameent const *e;
  for (i = 0; i < t->nb; i++)
    for (e = t->b[i]; e; e = e->next) fn(e, data);
}

/* Insertion into a short sorted list: n is small (a top 10 or 20). Ties go
 * by name so that the output does not depend on the hash order. */
static int before(nameent const *a, nameent const *b)
{
  if (a->n != b->n) return a->n > b->n;
  return strcmp(a->key, b->key) < 0;
}

size_t nametab_top(nametab const *t, nameent const **out, size_t n)
{
  size_t i, k = 0;
  nameent const *e;
  for (i = 0; i < t->nb; i++)
    for (e = t->b[i]; e; e = e->next)
    {
      size_t j;
      if (k == n && (!n || !before(e, out[n - 1]))) continue;
      j = k < n ? k++ : n - 1;
      while (j > 0 && before(e, out[j - 1])) { out[j] = out[j - 1]; j--; }
      out[j] = e;
    }
  return k;
}
