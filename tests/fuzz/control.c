/* Fuzz the control file reader over a file holding the input. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include <skalibs/types.h>
#include "fuzz.h"
#include "control.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  stralloc sa = STRALLOC_ZERO;
  char path[64] = "/proc/self/fd/";
  int fd = memfd_create("c", 0), n;
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
  path[14 + uint_fmt(path + 14, (unsigned int)fd)] = 0;
  n = control_readlines_path(&sa, path);
  if (n > 0)
  {
    size_t i = 0;
    int k;
    for (k = 0; k < n; k++)
    {
      size_t len = strlen(sa.s + i);
      FUZZ_ASSERT(i + len < sa.len);
      FUZZ_ASSERT(len && sa.s[i] != '#' && !memchr(sa.s + i, '\n', len));
      i += len + 1;
    }
    FUZZ_ASSERT(i == sa.len);
  }
  close(fd);
  stralloc_free(&sa);
  return 0;
}
