/* smtp_log.c: tern-smtpd's log lines (smtp_log.h). */
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include "smtp_log.h"

void smtp_log(char const *const *parts, unsigned int n)
{
  stralloc sa = STRALLOC_ZERO;
  unsigned int i;
  int ok = stralloc_cats(&sa, "tern-smtpd: info:");
  for (i = 0; ok && i < n; i++) ok = stralloc_cats(&sa, parts[i]);
  if (ok && stralloc_catb(&sa, "\n", 1)) allwrite(2, sa.s, sa.len);
  stralloc_free(&sa);
}
