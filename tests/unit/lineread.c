/* lineread.c: unit tests for lib/lineread.c, the timed line reader of
 * tern-smtpd, tern-pop3d and tern-remote. A scripted source hands out
 * chosen chunks (and says what it was asked); real socketpairs show the
 * one-byte mode and the deadline. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/djbunix.h>
#include "tap.h"
#include "lineread.h"

typedef struct script_s script;
struct script_s
{
  char const *const *chunks;   /* 0-terminated; then the end */
  size_t const *lens;          /* the chunks' lengths (0: strlen) */
  int end;                     /* at the end: 0 end of file, else this errno */
  unsigned int next;
  size_t off;                  /* into chunks[next] */
  unsigned int calls;
  size_t maxasked;             /* the most bytes one read asked for */
  tain const *lastdeadline;
};

/* Hands out the next chunk (what of it fits in n), as one read would. */
static ssize_t scripted(void *src, char *s, size_t n, tain const *deadline)
{
  script *sc = src;
  char const *c = sc->chunks[sc->next];
  size_t k;
  sc->calls++;
  if (n > sc->maxasked) sc->maxasked = n;
  sc->lastdeadline = deadline;
  if (!c)
  {
    if (!sc->end) return 0;
    errno = sc->end;
    return -1;
  }
  k = (sc->lens ? sc->lens[sc->next] : strlen(c)) - sc->off;
  if (k > n) k = n;
  memcpy(s, c + sc->off, k);
  sc->off += k;
  if (sc->off == (sc->lens ? sc->lens[sc->next] : strlen(c))) { sc->next++; sc->off = 0; }
  return (ssize_t)k;
}

#define SCRIPT(chunks) { chunks, 0, 0, 0, 0, 0, 0, 0 }

static ssize_t fdop(void *src, char *s, size_t n, tain const *deadline)
{
  return lineread_fdread(*(int *)src, s, n, deadline);
}

static stralloc sa = STRALLOC_ZERO;

static int eq(char const *want, size_t n)
{
  return sa.len == n && !memcmp(sa.s, want, n);
}

static void test_split(void)
{
  char const *chunks[] = { "HEL", "O x", "\r", "\nNOOP\r\nQU", "IT\r\n", 0 };
  script sc = SCRIPT(chunks);
  char buf[64];
  lineread r;
  lineread_init(&r, &scripted, &sc, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_OK, "a line split across four reads");
  ok(eq("HELO x\r\n", 8), "arrives whole, CR LF included");
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_OK, "the next line from what is buffered");
  ok(eq("NOOP\r\n", 6), "is the next line");
  is_int(lineread_len(&r), 2, "the start of the third stays buffered");
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_OK, "the third, completed by another read");
  ok(eq("QUIT\r\n", 6), "is whole");
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_EOF, "then end of file");
}

static void test_small_buffer(void)
{
  char const *chunks[] = { "abcd", "efgh", "ij\n", 0 };
  script sc = SCRIPT(chunks);
  char buf[4];
  lineread r;
  lineread_init(&r, &scripted, &sc, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 64, 0), LINEREAD_OK, "a line longer than the buffer (not than max)");
  ok(eq("abcdefghij\n", 11), "arrives whole");
  ok(sc.maxasked <= sizeof buf, "no read asks for more than the buffer holds");
}

static void test_bounds(void)
{
  char const *chunks[] = { "1234567\n", "12345678\n", "next\n", 0 };
  script sc = SCRIPT(chunks);
  char buf[64];
  lineread r;
  lineread_init(&r, &scripted, &sc, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_OK, "max bytes with the LF: fits");
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_TOOLONG, "max bytes and no LF among them: too long");
  ok(eq("12345678", 8), "the first max bytes are kept");
  is_int(lineread_len(&r), 1, "the rest (its LF) is unread");
  is_int(lineread_drop(&r, 100, 0), LINEREAD_OK, "drop reads on to the LF");
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_OK, "the next line is intact");
  ok(eq("next\n", 5), "and is the next line");
}

static void test_full(void)
{
  char const *chunks[] = { "abcd", "ef", 0 };
  script sc = SCRIPT(chunks);
  char buf[4];
  lineread r;
  lineread_init(&r, &scripted, &sc, buf, sizeof buf, 0);
  is_int(lineread_fill(&r, 0), 1, "fill: the buffer full");
  is_int(lineread_fill(&r, 0), -1, "fill again: refused, not read as the end of input");
  lineread_skip(&r, 3);
  is_int(lineread_fill(&r, 0), 1, "once some is consumed, the rest moves down and it reads on");
  ok(lineread_len(&r) == 3 && !memcmp(lineread_peek(&r), "def", 3), "in order");
}

static void test_max_then_silence(void)
{
  char const *chunks[] = { "12345678", 0 };
  script sc = SCRIPT(chunks);
  char buf[64];
  lineread r;
  sc.end = ETIMEDOUT;   /* a peer that stops there */
  lineread_init(&r, &scripted, &sc, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_TOOLONG, "max bytes without LF, then silence: too long at once");
  is_int(sc.calls, 1, "without waiting for another byte");
}

static void test_overlong(void)
{
  char const *withlf[] = { "0123456789", "ABCDEFGHIJ", "KL\nok\n", 0 };
  char const *nolf[] = { "xxxxxxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxxxxxxx", 0 };
  script a = SCRIPT(withlf), b = SCRIPT(nolf);
  char buf[64];
  lineread r;
  lineread_init(&r, &scripted, &a, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_TOOLONG, "overlong, its LF three reads on: too long at once");
  is_int(a.calls, 1, "found in the first read, not at the LF");
  is_int(lineread_drop(&r, 1024, 0), LINEREAD_OK, "dropped to its LF within the cap");
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_OK, "the next command starts after it");
  ok(eq("ok\n", 3), "and is whole");

  lineread_init(&r, &scripted, &b, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_TOOLONG, "overlong, no LF at all: too long");
  is_int(lineread_drop(&r, 25, 0), LINEREAD_TOOLONG, "drop gives up past its cap");
  /* 8 kept, then 25 dropped and the one past the cap read */
  is_int(lineread_len(&r), 40 - 8 - 26, "the rest of the second read left unread");
  is_int(b.calls, 2, "and no read beyond what the cap needed");

  b.next = 0; b.off = 0; b.calls = 0;
  lineread_init(&r, &scripted, &b, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 8, 0), LINEREAD_TOOLONG, "again: too long");
  is_int(lineread_drop(&r, 1000, 0), LINEREAD_EOF, "end of file while dropping is end of file");
}

static void test_eof_error_nul(void)
{
  char const *mid[] = { "MAIL FROM:<a@b>", 0 };
  char const *nul[] = { "a\0b\r\n", 0 };
  static size_t const nullens[] = { 5 };
  script a = SCRIPT(mid), b = SCRIPT(mid), c = SCRIPT(mid), d = SCRIPT(nul);
  char buf[64];
  lineread r;
  b.end = EIO;
  c.end = ETIMEDOUT;
  d.lens = nullens;
  lineread_init(&r, &scripted, &a, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_EOF, "end of file in the middle of a line: EOF");
  lineread_init(&r, &scripted, &b, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_ERROR, "a read error: ERROR");
  lineread_init(&r, &scripted, &c, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_TIMEOUT, "the source's timeout: TIMEOUT");
  lineread_init(&r, &scripted, &d, buf, sizeof buf, 0);
  is_int(lineread_get(&r, &sa, 512, 0), LINEREAD_OK, "a line with a NUL inside");
  ok(eq("a\0b\r\n", 5), "is passed through as it is (its meaning is the caller's)");
}

static void test_onebyte(void)
{
  int sv[2];
  char buf[64], rest[64];
  lineread r;
  ssize_t n;
  tain d;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) { ok(0, "socketpair"); return; }
  ndelay_on(sv[1]);
  ok(write(sv[0], "USER a\r\nPASS b\r\n", 16) == 16, "two commands sent in one write");
  lineread_init(&r, &fdop, &sv[1], buf, sizeof buf, 1);
  tain_now_g();
  tain_addsec_g(&d, 60);
  is_int(lineread_get(&r, &sa, 512, &d), LINEREAD_OK, "one byte a read: the first line");
  ok(eq("USER a\r\n", 8), "is whole");
  is_int(lineread_len(&r), 0, "nothing past its LF is buffered");
  n = read(sv[1], rest, sizeof rest);
  ok(n == 8 && !memcmp(rest, "PASS b\r\n", 8), "the next command is still on the fd (for the exec'd step)");

  /* the deadline: a partial line and then silence */
  ok(write(sv[0], "NO", 2) == 2, "a partial line");
  tain_now_g();
  d = STAMP;   /* already passed when the reader waits */
  is_int(lineread_get(&r, &sa, 512, &d), LINEREAD_TIMEOUT, "the deadline passes before its LF: TIMEOUT");
  ok(write(sv[0], "OP\r\n", 4) == 4, "the rest of it");
  tain_now_g();
  tain_addsec_g(&d, 60);
  is_int(lineread_get(&r, &sa, 512, &d), LINEREAD_OK, "a later call with a new deadline reads on");
  ok(eq("OP\r\n", 4), "from where the timed-out one stopped (the caller drops the client anyway)");
  close(sv[0]);
  is_int(lineread_get(&r, &sa, 512, &d), LINEREAD_EOF, "the peer closes: EOF");
  close(sv[1]);
}

static void test_deadline_passed_on(void)
{
  char const *chunks[] = { "a", "b\n", 0 };
  script sc = SCRIPT(chunks);
  char buf[64];
  lineread r;
  tain d;
  tain_now_g();
  tain_addsec_g(&d, 5);
  lineread_init(&r, &scripted, &sc, buf, sizeof buf, 0);
  lineread_get(&r, &sa, 64, &d);
  ok(sc.lastdeadline == &d, "the one deadline is given to every read of the line");
  sc.next = 0; sc.off = 0;
  lineread_init(&r, &scripted, &sc, buf, sizeof buf, 0);
  lineread_get(&r, &sa, 64, 0);
  ok(!sc.lastdeadline, "none: the source times each read (tern-remote)");
}

int main(void)
{
  test_split();
  test_small_buffer();
  test_bounds();
  test_max_then_silence();
  test_full();
  test_overlong();
  test_eof_error_nul();
  test_onebyte();
  test_deadline_passed_on();
  return done_testing();
}
