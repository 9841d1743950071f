/* tern-checkpassword.c: the checkpassword interface over tern's passwd.cdb.
 *
 * Interface (checkpassword's, exactly): "user\0password\0timestamp\0" on fd 3,
 * at most 512 bytes. Good login: USER and HOME set, the rest of the command
 * line executed. Exit 1 bad login, 2 misuse, 111 temporary failure.
 *
 * SECURITY: installed setuid to the auth user (the only reader of
 * passwd.cdb). Set-id, it reads the compiled home's passwd.cdb only: a
 * $TERN_HOME of the caller's (a table of its own, or another instance's) is
 * ignored, with a warning, and left in the environment of the program it
 * runs as the caller. fds 0-2 are made open (a closed one would get our
 * files), the signal mask is emptied, the umask set (docs/security.md). It
 * checks the password in time that does not depend on whether the user
 * exists, wipes it, and returns to the caller's ids before executing
 * anything. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/exec.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "pgdb.h"
#include "pw.h"
#include "setid.h"
#include "users.h"

#define USAGE "tern-checkpassword prog..."

/* Reads fd 3 to its end. Returns the length; exits 2 when fd 3 is missing
 * or holds too much, 111 on another read error. */
static size_t read_fd3(char *buf)
{
  size_t len = 0;
  for (;;)
  {
    ssize_t r = fd_read(3, buf + len, PW_CHECK_MAX + 1 - len);
    if (r < 0)
    {
      if (errno == EBADF) strerr_dief1x(2, "nothing on descriptor 3 (checkpassword interface)");
      strerr_diefu1sys(111, "read descriptor 3");
    }
    if (!r) break;
    len += (size_t)r;
    if (len > PW_CHECK_MAX) { pw_wipe(buf, len); strerr_dief1x(2, "more than 512 bytes on descriptor 3"); }
  }
  close(3);
  return len;
}

/* What the caller left us. Set-id, the compiled home is the one we read
 * (tern_home()); a different TERN_HOME is worth a word in the log. */
static void sanitize(void)
{
  char const *h = getenv("TERN_HOME");
  if (setid_fds() < 0) strerr_diefusys(111, "open /dev/null on a closed descriptor");
  umask(077);
  if (!setid_sigunblock()) strerr_diefusys(111, "unblock signals");
  if (h && *h && setid_secure() && strcmp(h, tern_home()))
    strerr_warnw("ignoring TERN_HOME=", h, ": a set-id program uses its compiled home ", tern_home());
}

/* Back to the caller's ids: what we execute must not run as the auth user. */
static void drop_setuid(void)
{
  if (setregid(getgid(), getgid()) < 0 || setreuid(getuid(), getuid()) < 0)
    strerr_diefu1sys(111, "drop the auth user's privileges");
}

/* HOME is the Maildir's parent: ".../user/Maildir/" gives ".../user". */
static int home_of(stralloc *home, stralloc const *maildir)
{
  size_t n = maildir->len;
  if (n && !maildir->s[n-1]) n--;
  while (n && maildir->s[n-1] == '/') n--;
  while (n && maildir->s[n-1] != '/') n--;
  while (n > 1 && maildir->s[n-1] == '/') n--;
  home->len = 0;
  return stralloc_catb(home, maildir->s, n ? n : 1) && stralloc_0(home);
}

static int check(char const *user, char const *pass, stralloc *maildir)
{
  stralloc hash = STRALLOC_ZERO;
  int r = *pass ? users_password(&hash, maildir, user) : 0;
  if (r < 0) strerr_diefu2sys(111, "look up ", user);
  r = pw_verify(r ? hash.s : 0, pass);
  if (r < 0) strerr_dief3x(111, "the password hash of ", user, " is not usable");
  pw_wipe(hash.s, hash.a);
  stralloc_free(&hash);
  return r;
}

int main(int argc, char const *const *argv)
{
  char buf[PW_CHECK_MAX + 1];
  char const *user, *pass;
  stralloc maildir = STRALLOC_ZERO, home = STRALLOC_ZERO, canon = STRALLOC_ZERO, modifs = STRALLOC_ZERO;
  size_t len;
  int ok;
  PROG = "tern-checkpassword";
  sanitize();
  if (argc < 2) strerr_dieusage(2, USAGE);
  len = read_fd3(buf);
  if (!pw_split(buf, len, &user, &pass)) { pw_wipe(buf, len); strerr_dief1x(2, "malformed checkpassword data on descriptor 3"); }
  ok = check(user, pass, &maildir);
  pgdb_close();
  pw_wipe((char *)pass, strlen(pass));
  if (!ok) return 1;
  drop_setuid();
  /* USER is the account's canonical (lowercased) address, as in the tables. */
  if (!home_of(&home, &maildir) || !users_canon(&canon, user)
   || !stralloc_cats(&modifs, "USER=") || !stralloc_cats(&modifs, canon.s) || !stralloc_0(&modifs)
   || !stralloc_cats(&modifs, "HOME=") || !stralloc_catb(&modifs, home.s, home.len))
    strerr_diefu1sys(111, "stralloc_catb");
  xmexec_m(argv + 1, modifs.s, modifs.len);
}
