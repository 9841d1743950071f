/* smtp_bad.c: badmailfrom and badrcptto (smtp_bad.h). */
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "smtp_bad.h"

static int load_one(stralloc *sa, char const *name)
{
  size_t i;
  if (control_readlines(sa, name) < 0) return 0;
  for (i = 0; i < sa->len; i++)
    if (sa->s[i] >= 'A' && sa->s[i] <= 'Z') sa->s[i] += 'a' - 'A';
  return 1;
}

int smtp_bad_load(smtp_bad *b, char const **what)
{
  *what = "badmailfrom";
  if (!load_one(&b->from, "badmailfrom")) return 0;
  *what = "badrcptto";
  return load_one(&b->rcpt, "badrcptto");
}

void smtp_bad_free(smtp_bad *b)
{
  stralloc_free(&b->from);
  stralloc_free(&b->rcpt);
}

/* Is key (n bytes) one of the lines of list? Case-insensitive. */
static int has(stralloc const *list, char const *key, size_t n)
{
  size_t i = 0;
  while (i < list->len)
  {
    size_t len = strlen(list->s + i);
    if (len == n && !strncasecmp(list->s + i, key, n)) return 1;
    i += len + 1;
  }
  return 0;
}

int smtp_bad_listed(stralloc const *list, char const *a)
{
  char const *at;
  size_t n = strlen(a);
  if (!n || !list->len) return 0;
  if (has(list, a, n)) return 1;
  at = strrchr(a, '@');
  /* "@domain": the domain after the last '@' (a quoted local part
   * holding '@' keeps its quotes, so the last one starts the domain) */
  return at && at[1] && has(list, at, n - (size_t)(at - a));
}

char const *smtp_bad_check(smtp_bad const *b, char const *sender, char const *rcpt, char const **why)
{
  if (!b) return 0;
  if (sender && smtp_bad_listed(&b->from, sender))
  {
    *why = "refused (badmailfrom)";
    return "553 5.7.1 Sorry, your envelope sender is in my badmailfrom list";
  }
  if (rcpt && smtp_bad_listed(&b->rcpt, rcpt))
  {
    *why = "refused (badrcptto)";
    return "553 5.7.1 Sorry, this recipient is in my badrcptto list: mail to it is refused";
  }
  return 0;
}
