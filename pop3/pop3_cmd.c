/* pop3_cmd.c: splitting a POP3 command line and reading its numbers. */
#include <string.h>
#include <skalibs/types.h>
#include "pop3.h"

int pop3_split(char *line, char **verb, char **args, int maxargs, int rest)
{
  int n = 0;
  char *p = line, *sp;
  if (!*p || *p == ' ') return -1;
  *verb = p;
  sp = strchr(p, ' ');
  for (; *p && p != sp; p++)
    if (*p >= 'a' && *p <= 'z') *p -= 'a' - 'A';
  if (!sp) return 0;
  *sp = 0;
  p = sp + 1;
  while (n < maxargs)
  {
    if (!*p) return -1;                 /* an empty field: "CMD " or "CMD a  b" */
    args[n++] = p;
    if (rest) return 1;
    sp = strchr(p, ' ');
    if (!sp) return n;
    if (*p == ' ') return -1;
    *sp = 0;
    p = sp + 1;
  }
  return -1;                            /* more than maxargs */
}

int pop3_number(char const *s, unsigned int *u)
{
  size_t n = strlen(s);
  if (!n || n > 9 || strspn(s, "0123456789") != n) return 0;
  return uint_scan(s, u) == n;
}
