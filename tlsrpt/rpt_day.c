/* rpt_day.c: a day's TLS reporting records, read and sorted (rpt.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include "rpt.h"

static int cmp(void const *a, void const *b)
{
  tlsrpt_rec const *x = a, *y = b;
  int c;
  if ((c = strcmp(x->domain, y->domain))) return c;
  if ((c = strcmp(x->type, y->type))) return c;
  if ((c = strcmp(x->policy, y->policy))) return c;
  if ((c = strcmp(x->result, y->result))) return c;
  if ((c = strcmp(x->mx, y->mx))) return c;
  if ((c = strcmp(x->rip, y->rip))) return c;
  return strcmp(x->lip, y->lip);
}

/* The whole file, or its first max bytes (cut back to the last full line). */
static int read_upto(rptday *d, char const *path, size_t max)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  for (;;)
  {
    ssize_t r;
    if (d->data.len >= max) { d->truncated = 1; break; }
    if (!stralloc_readyplus(&d->data, 65536)) { fd_close(fd); return 0; }
    r = fd_read(fd, d->data.s + d->data.len, max - d->data.len < 65536 ? max - d->data.len : 65536);
    if (r < 0) { fd_close(fd); return 0; }
    if (!r) break;
    d->data.len += (size_t)r;
  }
  fd_close(fd);
  if (d->truncated)
    while (d->data.len && d->data.s[d->data.len - 1] != '\n') d->data.len--;
  /* one spare byte: the parser ends the last field in place */
  return stralloc_0(&d->data);
}

int rptday_load(rptday *d, char const *path, size_t maxbytes)
{
  size_t i = 0, end;
  d->data.len = 0;
  genalloc_setlen(tlsrpt_rec, &d->recs, 0);
  d->bad = 0;
  d->truncated = 0;
  if (!read_upto(d, path, maxbytes)) return 0;
  end = d->data.len - 1;
  while (i < end)
  {
    char *s = d->data.s + i, *nl = memchr(s, '\n', end - i);
    size_t n = nl ? (size_t)(nl - s) : end - i;
    tlsrpt_rec r;
    /* a line without its '\n' is one a crash cut short: not a record */
    if (nl && tlsrpt_rec_parse(s, n, &r))
    {
      /* tlsroutes is a choice of ours, not a policy the domain published */
      if (!strcmp(r.type, "tlsroutes")) r.type = "no-policy-found";
      if (!genalloc_append(tlsrpt_rec, &d->recs, &r)) return 0;
    }
    else d->bad++;
    i += n + 1;
  }
  if (genalloc_len(tlsrpt_rec, &d->recs))
    qsort(genalloc_s(tlsrpt_rec, &d->recs), genalloc_len(tlsrpt_rec, &d->recs), sizeof(tlsrpt_rec), &cmp);
  return 1;
}

void rptday_free(rptday *d)
{
  stralloc_free(&d->data);
  genalloc_free(tlsrpt_rec, &d->recs);
}
