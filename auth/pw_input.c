/* pw_input.c: parsing the checkpassword interface's fd-3 data. */
#include <string.h>
#include "pw.h"

int pw_split(char const *s, size_t len, char const **user, char const **pass)
{
  char const *e1 = memchr(s, 0, len), *e2, *e3;
  if (!e1) return 0;
  e2 = memchr(e1 + 1, 0, len - (size_t)(e1 + 1 - s));
  if (!e2) return 0;
  /* The timestamp is optional; if present it must end the data. */
  if ((size_t)(e2 + 1 - s) < len)
  {
    e3 = memchr(e2 + 1, 0, len - (size_t)(e2 + 1 - s));
    if (!e3 || (size_t)(e3 + 1 - s) != len) return 0;
  }
  *user = s;
  *pass = e1 + 1;
  return 1;
}
