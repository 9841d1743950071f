/* report.c: format and parse the per-recipient delivery records. */
#include <string.h>
#include "report.h"

int report_put(buffer *b, char status, char const *text)
{
  char line[REPORT_TEXT_MAX + 3];
  size_t n = 0;
  line[n++] = status;
  for (; *text && n < REPORT_TEXT_MAX + 1; text++)
  {
    unsigned char c = (unsigned char)*text;
    line[n++] = (c < 32 || c == 127) ? '?' : (char)c;
  }
  line[n++] = 0;
  return buffer_put(b, line, n) >= 0;
}

size_t report_parse(report *r, size_t max, char const *s, size_t n, int *bad)
{
  size_t i = 0, count = 0;
  *bad = 0;
  while (i < n && count < max)
  {
    char const *z = memchr(s + i, 0, n - i);
    size_t len;
    if (!z) { *bad = 1; break; }
    len = (size_t)(z - (s + i));
    if (len < 1 || len > REPORT_TEXT_MAX + 1
     || (s[i] != REPORT_OK && s[i] != REPORT_TEMP && s[i] != REPORT_PERM))
    {
      *bad = 1;
      break;
    }
    r[count].status = s[i];
    r[count].text = s + i + 1;
    count++;
    i += len + 1;
  }
  if (i < n && count == max) *bad = 1;
  return count;
}
