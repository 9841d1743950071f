/* Fuzz the bounce generator (send/send_bounce.c) with any stored message
 * (NUL, lone CR, CR LF, dots, bodies without an empty line):
 * - the report is LF text without NUL or CR, no line over 998 bytes;
 * - its text/rfc822-headers part is exactly the original's header section
 *   as a plain reading gives it (below, written apart from lib/msghdr.c):
 *   NUL dropped, LF, CR LF and a lone CR each one line end, the lines up to
 *   the first that is neither a field nor a continuation, controls but tab
 *   as '?', each cut at 998 bytes, whole lines within 64 KiB;
 * - sent as SMTP DATA (lib/dataenc.h), no lax reader (lax.h) sees an end
 *   of data before the real one. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"
#include "lax.h"
#include "dataenc.h"
#include "envelope.h"
#include "../../send/send.h"

#define CAP 65536
#define LINE 998

LAX_NOCOV static int isfield(char const *s, size_t n)
{
  size_t i = 0;
  while (i < n && s[i] != ':' && (unsigned char)s[i] > 32 && (unsigned char)s[i] < 127) i++;
  if (!i) return 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  return i < n && s[i] == ':';
}

/* The expected quoted part, each line with its LF. */
LAX_NOCOV static void expected(char const *s, size_t n, stralloc *out)
{
  stralloc t = STRALLOC_ZERO;
  size_t i, start = 0;
  int cr = 0, fields = 0;
  for (i = 0; i < n; i++)
  {
    char c = s[i];
    if (!c) continue;
    if (c == '\n' && cr) { cr = 0; continue; }
    cr = c == '\r';
    FUZZ_ASSERT(stralloc_catb(&t, c == '\r' ? "\n" : &c, 1));
  }
  if (t.len && t.s[t.len - 1] != '\n') FUZZ_ASSERT(stralloc_catb(&t, "\n", 1));
  if (t.len > CAP) t.len = CAP;
  for (i = 0; i < t.len; i++)
  {
    size_t len, j;
    if (t.s[i] != '\n') continue;
    len = i - start;
    if (!len) break;
    if (t.s[start] == ' ' || t.s[start] == '\t') { if (!fields) break; }
    else if (!isfield(t.s + start, len)) break;
    fields = 1;
    if (len > LINE) len = LINE;
    for (j = 0; j < len; j++)
    {
      unsigned char c = (unsigned char)t.s[start + j];
      char o = (c < 32 && c != '\t') || c == 127 ? '?' : (char)c;
      FUZZ_ASSERT(stralloc_catb(out, &o, 1));
    }
    FUZZ_ASSERT(stralloc_catb(out, "\n", 1));
    start = i + 1;
  }
  stralloc_free(&t);
}

static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc; (void)argv;
  fd = memfd_create("msg", 0);   /* one file, rewritten for each input */
  FUZZ_ASSERT(fd >= 0);
  return 0;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  static char const env[] = "Fs@far.test\0Tbad@far.test\0";
  static char const mark[] = "\nContent-Description: Undelivered message headers\n\n";
  static char const tail[] = "\n--tern-6553f1000000abcd-1700000000--\n";
  sendconf c = { 0 };
  msg m = { 0 };
  rcpt r[1];
  stralloc out = STRALLOC_ZERO, want = STRALLOC_ZERO, wire = STRALLOC_ZERO;
  dataenc e = DATAENC_ZERO;
  char const *q;
  size_t i, bol = 0;
  FUZZ_ASSERT(ftruncate(fd, 0) == 0);
  FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);
  memset(r, 0, sizeof r);
  FUZZ_ASSERT(stralloc_copys(&c.me, "mx.ex.test") && stralloc_0(&c.me));
  FUZZ_ASSERT(stralloc_copys(&c.bouncefrom, "MAILER-DAEMON") && stralloc_0(&c.bouncefrom));
  FUZZ_ASSERT(stralloc_copys(&c.bouncehost, "ex.test") && stralloc_0(&c.bouncehost));
  strcpy(m.id, "6553f1000000abcd");
  m.arrival = 1700000000;
  m.size = size;
  FUZZ_ASSERT(stralloc_catb(&m.env, env, sizeof env));
  FUZZ_ASSERT(envelope_parse(&m.e, m.env.s, m.env.len, 1) == 1);
  FUZZ_ASSERT(stralloc_catb(&m.texts, "550 5.1.1 no such user", 23));
  r[0].st.status = 'D';
  r[0].st.last = 1700000010;
  r[0].st.text = 0;
  m.r = r;
  FUZZ_ASSERT(bounce_build(&out, &c, &m, fd, "s@far.test", 1700000000));

  for (i = 0; i < out.len; i++)
  {
    FUZZ_ASSERT(out.s[i] && out.s[i] != '\r');
    if (out.s[i] == '\n') { FUZZ_ASSERT(i - bol <= LINE); bol = i + 1; }
  }
  expected((char const *)data, size, &want);
  q = memmem(out.s, out.len, mark, sizeof mark - 1);
  FUZZ_ASSERT(q);
  q += sizeof mark - 1;
  FUZZ_ASSERT((size_t)(out.s + out.len - q) == want.len + sizeof tail - 1);
  FUZZ_ASSERT((!want.len || !memcmp(q, want.s, want.len)) && !memcmp(q + want.len, tail, sizeof tail - 1));
  FUZZ_ASSERT(want.len <= CAP);

  FUZZ_ASSERT(dataenc_put(&e, out.s, out.len, &wire) && dataenc_end(&e, &wire));
  lax_check(wire.s, wire.len);

  stralloc_free(&out); stralloc_free(&want); stralloc_free(&wire);
  stralloc_free(&c.me); stralloc_free(&c.bouncefrom); stralloc_free(&c.bouncehost);
  stralloc_free(&m.env); stralloc_free(&m.texts); envelope_free(&m.e);
  return 0;
}
