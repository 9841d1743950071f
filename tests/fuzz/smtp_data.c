/* Fuzz the DATA stream decoder: whatever the bytes, the message it stores
 * never holds a CR or a NUL, a message that ends without error ended at
 * CRLF.CRLF (after an error the decoder resynchronises on any end marker,
 * but that message is refused, so nothing it held is ever queued), and its
 * Received count, read on the way, is within the limit. */
#include "fuzz.h"
#include "../../smtpd/smtp_data.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  smtp_data d;
  size_t i;
  smtp_data_init(&d, 4096, 5);
  for (i = 0; i < size; i++)
  {
    char out;
    int r = smtp_data_feed(&d, (char)data[i], &out);
    if (r == DATA_OUT) FUZZ_ASSERT(out != '\r' && out != 0);
    if (r == DATA_END)
    {
      if (!d.err) FUZZ_ASSERT(i >= 2 && data[i] == '\n' && data[i-1] == '\r' && data[i-2] == '.' && d.hdr.received <= 5);
      break;
    }
  }
  smtp_data_free(&d);
  return 0;
}
