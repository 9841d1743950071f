/* Fuzz the delivery records parser (tern-send reading tern-local/-remote)
 * and the writer's neutralising of control bytes. */
#include <skalibs/buffer.h>
#include "fuzz.h"
#include "report.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  report r[8];
  int bad;
  size_t n = report_parse(r, 8, (char const *)data, size, &bad), i;
  char text[256], out[REPORT_TEXT_MAX + 8];
  buffer b = BUFFER_INIT(&buffer_write, -1, out, sizeof out);
  FUZZ_ASSERT(n <= 8);
  for (i = 0; i < n; i++) FUZZ_ASSERT(r[i].status == 'K' || r[i].status == 'Z' || r[i].status == 'D');
  /* the writer: any text makes one record that parses back as one */
  i = size < sizeof text - 1 ? size : sizeof text - 1;
  memcpy(text, data, i);
  text[i] = 0;
  FUZZ_ASSERT(report_put(&b, 'Z', text));
  n = report_parse(r, 8, out, b.c.n, &bad);
  FUZZ_ASSERT(n == 1 && !bad);
  for (i = 0; r[0].text[i]; i++) FUZZ_ASSERT((unsigned char)r[0].text[i] >= 32 && r[0].text[i] != 127);
  return 0;
}
