/* tern-dkimseal.c: signs DKIM header hashes with a domain's keys, for tern-dkimsign.
 *
 * Interface: tern-dkimseal DOMAIN SELECTOR [SELECTOR...] (at most 4).
 * Loads $TERN_HOME/dkim/DOMAIN/SELECTOR.key for each selector, then writes
 * one line per key on fd 1, "ALG LEN\n" (the a= value and the length of
 * its signatures in bytes); reads exactly 32 bytes per key on fd 0 (the
 * SHA-256 header hashes, in the same order) and then end of file; writes
 * the signatures, LEN bytes each, in order, on fd 1; exits 0.
 * Exit 100: usage, a bad name, input short or long; 111: a key that cannot
 * be read or used, a system error, no input within 60 seconds.
 *
 * SECURITY: installed setuid to the DKIM user (conf-users, ternk), the only
 * user who can read dkim/. It is the only program that holds a DKIM key and
 * does nothing else: it never sees a message, only fixed-size hashes.
 * Set-id, it takes nothing from its caller but argv and fd 0: the
 * environment is emptied (so $TERN_HOME is the compiled home), fds 0-2 are
 * made to exist, names are checked (dkim_name_ok: no '/', no "..") before
 * they become a path, a key is opened without following a symlink and must
 * be a small regular file, keys are wiped before exit. Whoever may run it
 * gets signatures, never a key: docs/dkim.md says who that is and why. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "dkim_conf.h"
#include "dkim_key.h"

#define USAGE "tern-dkimseal domain selector [selector...]"
#define SEAL_TIMEOUT 60
#define KEYFILE_MAX 65536

static dkim_key keys[DKIM_MAXSEL];
static unsigned int nkeys;

static void wipe(void)
{
  unsigned int i;
  for (i = 0; i < nkeys; i++) dkim_key_wipe(keys + i);
}

static void die(int e, char const *a, char const *b, char const *c, char const *d)
{
  wipe();
  strerr_dief(e, a, b, c, d);
}

/* What a set-id program resets before anything else (docs/dkim.md). */
static void harden(void)
{
  int fd;
  if (getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid())
    if (clearenv() < 0) strerr_diefu(111, "empty the environment");
  for (fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) strerr_diefu(111, "open /dev/null");
  signal(SIGALRM, SIG_DFL);
  alarm(SEAL_TIMEOUT);
}

static void load(dkim_key *k, char const *domain, char const *sel)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO;
  char const *why;
  struct stat st;
  int fd;
  ssize_t r;
  if (!stralloc_cats(&path, "dkim/") || !stralloc_cats(&path, domain) || !stralloc_catb(&path, "/", 1)
   || !stralloc_cats(&path, sel) || !stralloc_cats(&path, ".key") || !stralloc_0(&path)
   || !stralloc_ready(&text, KEYFILE_MAX + 1)) die(111, "unable to allocate", "", "", "");
  fd = open(path.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) { wipe(); strerr_diefusys(111, "open ", path.s); }
  if (fstat(fd, &st) < 0) { wipe(); strerr_diefusys(111, "stat ", path.s); }
  if (!S_ISREG(st.st_mode)) die(111, path.s, " is not a regular file", "", "");
  r = allread(fd, text.s, KEYFILE_MAX + 1);
  if (r < 0) { wipe(); strerr_diefusys(111, "read ", path.s); }
  if (r > KEYFILE_MAX) die(111, path.s, " is too large for a key", "", "");
  close(fd);
  if (!dkim_key_parse(k, text.s, (size_t)r, &why)) die(111, path.s, ": ", why, "");
  nkeys++;
  explicit_bzero(text.s, text.a);
  stralloc_free(&text);
  stralloc_free(&path);
}

static void announce(void)
{
  stralloc out = STRALLOC_ZERO;
  unsigned int i;
  for (i = 0; i < nkeys; i++)
  {
    char num[SIZE_FMT];
    num[size_fmt(num, dkim_key_siglen(keys + i))] = 0;
    if (!stralloc_cats(&out, dkim_key_alg(keys + i)) || !stralloc_catb(&out, " ", 1)
     || !stralloc_cats(&out, num) || !stralloc_catb(&out, "\n", 1)) die(111, "unable to allocate", "", "", "");
  }
  if (allwrite(1, out.s, out.len) < out.len) { wipe(); strerr_diefusys(111, "write to tern-dkimsign"); }
  stralloc_free(&out);
}

/* Reads exactly 32 bytes per key, then end of file, and answers. */
static void sign_all(void)
{
  unsigned char hashes[32 * DKIM_MAXSEL + 1], sig[DKIM_SIG_MAX];
  size_t want = 32 * nkeys;
  ssize_t r = allread(0, (char *)hashes, want + 1);
  unsigned int i;
  if (r < 0) { wipe(); strerr_diefusys(111, "read the hashes"); }
  if ((size_t)r != want) die(100, "protocol error: expected 32 bytes per key and the end of the input", "", "", "");
  for (i = 0; i < nkeys; i++)
  {
    size_t n = dkim_key_siglen(keys + i);
    if (!dkim_key_sign(keys + i, hashes + 32 * i, sig)) die(111, "unable to sign with a ", dkim_key_kind(keys + i), " key", "");
    if (allwrite(1, (char *)sig, n) < n) { wipe(); strerr_diefusys(111, "write to tern-dkimsign"); }
  }
}

int main(int argc, char const *const *argv)
{
  int i;
  PROG = "tern-dkimseal";
  harden();
  if (argc < 3 || argc > 2 + DKIM_MAXSEL) strerr_dieusage(100, USAGE);
  for (i = 1; i < argc; i++)
    if (!dkim_name_ok(argv[i], strlen(argv[i]))) strerr_dief(100, "bad domain or selector name: ", argv[i]);
  if (chdir(tern_home()) < 0) strerr_diefusys(111, "chdir to ", tern_home());
  for (i = 2; i < argc; i++) load(keys + nkeys, argv[1], argv[i]);
  announce();
  sign_all();
  wipe();
  return 0;
}
