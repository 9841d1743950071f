/* pw_users.c: add, change or remove one account in the text of the users file (tern-passwd). */
#include <string.h>
#include <skalibs/stralloc.h>
#include "users.h"
#include "pw.h"

/* Is line (len bytes, no newline) an account line for canon? 1 yes, 0 no,
 * -1 out of memory. Comments, blank and malformed lines are never matches. */
static int line_is(char const *line, size_t len, char const *canon, stralloc *tmp)
{
  char const *why;
  size_t i = 0;
  int r;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
  if (i == len || line[i] == '#') return 0;
  r = users_parse_line(tmp, line, len, &why);
  if (r <= 0) return r;
  return !strcmp(tmp->s, canon);
}

/* Appends the line with its hash field replaced by hash. */
static int cat_rehashed(stralloc *out, char const *line, size_t len, char const *hash)
{
  char const *c1 = memchr(line, ':', len);
  char const *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line));
  return stralloc_catb(out, line, (size_t)(c1 + 1 - line)) && stralloc_cats(out, hash)
      && stralloc_catb(out, c2, len - (size_t)(c2 - line)) && stralloc_catb(out, "\n", 1);
}

static int add_line(stralloc *out, char const *address, char const *hash, char const *maildir, char const **why)
{
  stralloc line = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  int r;
  if (!stralloc_cats(&line, address) || !stralloc_catb(&line, ":", 1) || !stralloc_cats(&line, hash)
   || !stralloc_catb(&line, ":", 1) || !stralloc_cats(&line, maildir)) return -1;
  r = users_parse_line(&tmp, line.s, line.len, why);
  if (r > 0 && (!stralloc_catb(&line, "\n", 1) || !stralloc_catb(out, line.s, line.len))) r = -1;
  stralloc_free(&line);
  stralloc_free(&tmp);
  return r;
}

int pw_users_edit(stralloc *out, char const *src, size_t len, char op,
                  char const *address, char const *hash, char const *maildir, char const **why)
{
  stralloc canon = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  size_t i = 0;
  int found = 0, r = 1;
  out->len = 0;
  if (!users_canon(&canon, address)) return -1;
  while (i < len && r > 0)
  {
    char const *nl = memchr(src + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - (src + i)) : len - i;
    int m = line_is(src + i, n, canon.s, &tmp);
    if (m < 0) r = -1;
    else if (m && op != 'a')
    {
      found = 1;
      /* Every line of the address: a second one must not become active. */
      if (op == 'c' && !cat_rehashed(out, src + i, n, hash)) r = -1;
    }
    else
    {
      if (m) found = 1;
      if (!stralloc_catb(out, src + i, n) || !stralloc_catb(out, "\n", 1)) r = -1;
    }
    i += n + 1;
  }
  if (r > 0 && op == 'a' && found) { *why = "already a user"; r = 0; }
  else if (r > 0 && op != 'a' && !found) { *why = "no such user"; r = 0; }
  else if (r > 0 && op == 'a') r = add_line(out, address, hash, maildir, why);
  stralloc_free(&canon);
  stralloc_free(&tmp);
  return r;
}
