/* Fuzz the checkpassword input split (user\0password\0timestamp\0 on fd 3). */
#include "fuzz.h"
#include "../../auth/pw.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *user = 0, *pass = 0;
  if (pw_split((char const *)data, size, &user, &pass) == 1)
  {
    FUZZ_ASSERT(user && pass);
    FUZZ_ASSERT(user >= (char const *)data && user < (char const *)data + size);
    FUZZ_ASSERT(pass >= (char const *)data && pass < (char const *)data + size);
    FUZZ_ASSERT(memchr(user, 0, (char const *)data + size - user));
    FUZZ_ASSERT(memchr(pass, 0, (char const *)data + size - pass));
  }
  return 0;
}
