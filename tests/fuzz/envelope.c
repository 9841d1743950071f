/* Fuzz the envelope parser (the pipe into tern-queue) and the queue-file
 * reader (message | envelope | trailer) over the same bytes. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"
#include "envelope.h"
#include "queuefile.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  envelope e = ENVELOPE_ZERO;
  stralloc sa = STRALLOC_ZERO;
  uint64_t m = 0;
  int fd;
  if (envelope_parse(&e, (char const *)data, size, 1) == 1)
  {
    size_t i;
    FUZZ_ASSERT(e.len == size && envelope_nrcpt(&e) > 0);
    for (i = 0; i < envelope_nrcpt(&e); i++) FUZZ_ASSERT(*envelope_rcpt(&e, i));
  }
  fd = memfd_create("q", 0);
  if (fd >= 0)
  {
    if (write(fd, data, size) == (ssize_t)size && queuefile_read_envelope(fd, &sa, &m) == 1)
    {
      FUZZ_ASSERT(m + sa.len + QUEUEFILE_TRAILER == size);
      FUZZ_ASSERT(envelope_parse(&e, sa.s, sa.len, 1) == 1);
    }
    close(fd);
  }
  envelope_free(&e);
  stralloc_free(&sa);
  return 0;
}
