/* fuzz.h: what every libFuzzer target here shares. A target checks
 * properties, not just survival: when it finds a result that breaks one of
 * our promises it calls FUZZ_ASSERT, which aborts so libFuzzer keeps the
 * input. */
#ifndef TERN_FUZZ_H
#define TERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

#endif
