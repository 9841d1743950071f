/* lax.h: how receivers that do not follow RFC 5321 read a dot-terminated
 * stream (SMTP DATA, a POP3 answer), for the targets that check our output
 * paths (docs/security.md). A reader may drop NUL bytes, and may end
 * lines at CR LF only, at a bare LF too, at a bare CR too, or at either;
 * the end of data is the first line that is exactly ".". For every reader,
 * that line must be the last one of the stream. */
#ifndef TERN_FUZZ_LAX_H
#define TERN_FUZZ_LAX_H

#include "fuzz.h"

/* The checker's own branches are not what the fuzzer should explore, and
 * instrumented they cost most of the run time: keep coverage out of them. */
#if defined(__clang__)
#define LAX_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define LAX_NOCOV
#endif

#define LAX_LF 1   /* a bare LF ends a line */
#define LAX_CR 2   /* a bare CR ends a line */

/* Where the first "." line ends (the offset after its line end) for one
 * reader; 0 when there is none. */
LAX_NOCOV static size_t lax_end(char const *s, size_t n, int dropnul, int mode)
{
  size_t i, len = 0;
  int dot = 0;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    size_t next = 0;
    if (!c && dropnul) continue;
    if (c == '\r')
    {
      size_t j = i + 1;
      if (dropnul) while (j < n && !s[j]) j++;
      if (j < n && s[j] == '\n') next = j + 1;
      else if (mode & LAX_CR) next = i + 1;
    }
    else if (c == '\n' && (mode & LAX_LF)) next = i + 1;
    if (next)
    {
      if (len == 1 && dot) return next;
      len = 0;
      dot = 0;
      i = next - 1;
      continue;
    }
    if (!len) dot = c == '.';
    len++;
  }
  return 0;
}

/* Every reader finds the end of data exactly at the end of s[0..n). */
LAX_NOCOV static void lax_check(char const *s, size_t n)
{
  int drop, mode;
  for (drop = 0; drop < 2; drop++)
    for (mode = 0; mode < 4; mode++)
      if (lax_end(s, n, drop, mode) != n)
      {
        fprintf(stderr, "fuzz: a reader (drop NUL %d, bare LF %d, bare CR %d) ends the data at %zu of %zu\n",
                drop, !!(mode & LAX_LF), !!(mode & LAX_CR), lax_end(s, n, drop, mode), n);
        FUZZ_ASSERT(!"early end of data for a lax reader");
      }
}

#endif
