/* tap.h: a few macros that print TAP, for the C unit tests (no framework). */
#ifndef TERN_TAP_H
#define TERN_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n = 0, tap_failed = 0;

#define ok(cond, ...) do { \
  int tap_c_ = !!(cond); \
  tap_n++; \
  if (!tap_c_) tap_failed++; \
  printf("%sok %d - ", tap_c_ ? "" : "not ", tap_n); \
  printf(__VA_ARGS__); \
  printf("\n"); \
  if (!tap_c_) printf("#   failed at %s line %d\n", __FILE__, __LINE__); \
} while (0)

#define is_int(got, want, ...) do { \
  long tap_g_ = (long)(got), tap_w_ = (long)(want); \
  ok(tap_g_ == tap_w_, __VA_ARGS__); \
  if (tap_g_ != tap_w_) printf("#   got %ld, want %ld\n", tap_g_, tap_w_); \
} while (0)

#define is_str(got, want, ...) do { \
  char const *tap_g_ = (got), *tap_w_ = (want); \
  int tap_e_ = tap_g_ && tap_w_ && !strcmp(tap_g_, tap_w_); \
  ok(tap_e_, __VA_ARGS__); \
  if (!tap_e_) printf("#   got '%s', want '%s'\n", tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
} while (0)

#define done_testing() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
