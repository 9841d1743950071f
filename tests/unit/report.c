/* Unit tests for lib/report.c: delivery records between tern-send and its programs. */
#include <skalibs/buffer.h>
#include "tap.h"
#include "report.h"

#define S(x) x, sizeof(x) - 1

int main(void)
{
  report r[4];
  int bad;
  char out[64];
  buffer b = BUFFER_INIT(&buffer_write, -1, out, sizeof out);
  size_t n = report_parse(r, 4, S("Kok\0Zlater\0Dno such user\0"), &bad);
  is_int(n, 3, "three records");
  ok(!bad, "no error");
  ok(r[2].status == 'D' && !strcmp(r[2].text, "no such user"), "third record");
  n = report_parse(r, 4, S("Kok\0Zunfinished"), &bad);
  ok(n == 1 && bad, "truncated record refused, earlier kept");
  n = report_parse(r, 4, S("Xweird\0"), &bad);
  ok(n == 0 && bad, "unknown status refused");
  n = report_parse(r, 4, S("\0"), &bad);
  ok(n == 0 && bad, "empty record refused");
  n = report_parse(r, 1, S("Ka\0Kb\0"), &bad);
  ok(n == 1 && bad, "more records than recipients is an error");
  ok(report_put(&b, 'Z', "line\r\nQUIT\0"), "put");
  ok(b.c.n >= 12 && !memcmp(out, "Zline??QUIT\0", 12), "CR/LF in text neutralised");
  return done_testing();
}
