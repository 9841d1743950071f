/* Fuzz the POP3 command splitter and number parser. */
#include "fuzz.h"
#include "../../pop3/pop3.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char line[600], *verb = 0, *args[3];
  int n, rest;
  if (size >= sizeof line) return 0;
  for (rest = 0; rest < 2; rest++)
  {
    memcpy(line, data, size);
    line[size] = 0;
    n = pop3_split(line, &verb, args, 2, rest);
    FUZZ_ASSERT(n >= -1 && n <= 2);
    if (n >= 1)
    {
      unsigned int u;
      FUZZ_ASSERT(verb);
      if (pop3_number(args[0], &u)) FUZZ_ASSERT(u <= 999999999u);
    }
  }
  return 0;
}
