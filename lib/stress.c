/* stress.c: reading TERN_STRESS (stress.h). */
#include <stdlib.h>
#include <string.h>
#include "stress.h"

int stress_on(void)
{
  char const *x = getenv("TERN_STRESS");
  return x && *x && strcmp(x, "0");
}

unsigned int stress_timeout(unsigned int normal, unsigned int shortone)
{
  return stress_on() && shortone < normal ? shortone : normal;
}
