/* tern-passwd.c: add, change or remove a mail account's password in $TERN_HOME/users and rebuild the tables,
 * or, when control/pgsql exists, in the database's tern_users (docs/fleet.md).
 *
 * The password comes from the terminal (asked twice, not echoed) or, when
 * stdin is not a terminal, from the first line of stdin; never from argv,
 * where ps would show it.
 *
 * SECURITY: run by the admin. The users file is rewritten atomically
 * (temporary file, fsync, rename) under a lock; when run as root the new
 * file and passwd.cdb get the old users file's owner (the auth user), so
 * tern-checkpassword can still read them. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "pgdb.h"
#include "pw.h"
#include "users.h"

#define USAGE "tern-passwd add address [maildir] | change address | remove address | -h"
#define dieusage() strerr_dieusage(100, USAGE)

/* Reads one line from fd 0 into buf (at most PW_PASS_MAX bytes, without
 * its newline). Exits 100 on an overlong or empty line, or a NUL. */
static size_t read_line(char *buf)
{
  size_t len = 0;
  for (;;)
  {
    char c;
    ssize_t r = fd_read(0, &c, 1);
    if (r < 0) strerr_diefu1sys(111, "read the password");
    if (!r || c == '\n') break;
    if (!c) strerr_dief1x(100, "a password cannot contain a NUL byte");
    if (len == PW_PASS_MAX) { pw_wipe(buf, len); strerr_dief1x(100, "password longer than 256 bytes"); }
    buf[len++] = c;
  }
  if (len && buf[len-1] == '\r') len--;
  if (!len) strerr_dief1x(100, "empty password refused");
  buf[len] = 0;
  return len;
}

/* Asks twice on the terminal with echo off. */
static void read_tty(char *buf, char const *address)
{
  char again[PW_PASS_MAX + 1];
  struct termios old, quiet;
  int same;
  if (tcgetattr(0, &old) < 0) strerr_diefu1sys(111, "read the terminal settings");
  quiet = old;
  quiet.c_lflag &= ~(ECHO | ECHONL);
  quiet.c_lflag |= ICANON;
  if (tcsetattr(0, TCSAFLUSH, &quiet) < 0) strerr_diefu1sys(111, "turn echo off");
  buffer_putsflush(buffer_2, "Password for ");
  buffer_putsflush(buffer_2, address);
  buffer_putsflush(buffer_2, ": ");
  read_line(buf);
  buffer_putsflush(buffer_2, "\nAgain: ");
  read_line(again);
  buffer_putsflush(buffer_2, "\n");
  tcsetattr(0, TCSAFLUSH, &old);
  same = !strcmp(buf, again);
  pw_wipe(again, sizeof again);
  if (!same) { pw_wipe(buf, PW_PASS_MAX + 1); strerr_dief1x(100, "the passwords differ"); }
}

static void get_hash(stralloc *hash, char const *address)
{
  char pass[PW_PASS_MAX + 1];
  if (isatty(0)) read_tty(pass, address);
  else read_line(pass);
  if (!pw_hash(hash, pass)) { pw_wipe(pass, sizeof pass); strerr_diefu1sys(111, "hash the password"); }
  pw_wipe(pass, sizeof pass);
}

/* The default Maildir of a new account: mail/DOMAIN/LOCAL/Maildir/, when
 * both parts are plain enough to be directory names. */
static void default_maildir(stralloc *sa, char const *address)
{
  static char const ok[] = "abcdefghijklmnopqrstuvwxyz0123456789._+-";
  stralloc canon = STRALLOC_ZERO;
  char const *at;
  if (!users_canon(&canon, address)) strerr_diefu1sys(111, "stralloc_catb");
  at = strrchr(canon.s, '@');
  if (!at || at == canon.s || !at[1] || canon.s[0] == '.' || at[1] == '.'
   || strspn(canon.s, ok) != (size_t)(at - canon.s) || strspn(at + 1, ok) != strlen(at + 1))
    strerr_dief2x(100, "give the Maildir for ", address);
  if (!stralloc_cats(sa, "mail/") || !stralloc_cats(sa, at + 1) || !stralloc_cats(sa, "/")
   || !stralloc_catb(sa, canon.s, (size_t)(at - canon.s)) || !stralloc_cats(sa, "/Maildir/") || !stralloc_0(sa))
    strerr_diefu1sys(111, "stralloc_catb");
  stralloc_free(&canon);
}

static void path(stralloc *sa, char const *name)
{
  sa->len = 0;
  if (!tern_path(sa, name)) strerr_diefu1sys(111, "stralloc_catb");
}

/* Replaces the users file with text, durably; keeps its owner and mode. */
static void write_users(stralloc const *text, struct stat const *old)
{
  stralloc fn = STRALLOC_ZERO, dir = STRALLOC_ZERO;
  int fd;
  path(&fn, "users");
  if (!openwritenclose_suffix_sync(fn.s, text->s, text->len, ".tmp")) strerr_diefu2sys(111, "write ", fn.s);
  if (old && geteuid() == 0 && chown(fn.s, old->st_uid, old->st_gid) < 0) strerr_diefu2sys(111, "chown ", fn.s);
  if (old && chmod(fn.s, old->st_mode & 07777) < 0) strerr_diefu2sys(111, "chmod ", fn.s);
  path(&dir, ".");
  fd = open(dir.s, O_RDONLY | O_DIRECTORY);
  if (fd < 0 || fsync(fd) < 0) strerr_diefu2sys(111, "sync ", dir.s);
  close(fd);
}

static void rebuild(struct stat const *old)
{
  stralloc err = STRALLOC_ZERO, fn = STRALLOC_ZERO;
  int r = users_make(&err);
  if (r < 0) strerr_diefusys(111, "rebuild ", err.len ? err.s : "the tables");
  if (!r) strerr_dief(100, "the users file was changed but does not compile: ", err.s);
  path(&fn, "passwd.cdb");
  if (old && geteuid() == 0 && chown(fn.s, old->st_uid, old->st_gid) < 0) strerr_diefu2sys(111, "chown ", fn.s);
}

/* The new account's Maildir, made before the account exists so that its
 * first login finds a mailbox (an empty one) rather than an error. */
static void make_maildir(char const *maildir)
{
  stralloc where = STRALLOC_ZERO;
  int made;
  if (pw_maildir_make(maildir, &where, &made) < 0)
  {
    if (errno == ELOOP) strerr_dief(100, "refusing to follow the symbolic link ", where.s, " (not root's): make the Maildir yourself");
    strerr_diefusys(111, "make the Maildir ", where.s);
  }
  stralloc_free(&where);
}

/* With control/pgsql the account lives in the database (docs/fleet.md):
 * the users file and the cdbs are left alone. 1 done, 0 no database. */
static int in_database(char op, char const *address, char const *maildir)
{
  stralloc hash = STRALLOC_ZERO;
  char const *why = "refused";
  int r = pgdb_configured();
  if (r < 0) { stralloc w = STRALLOC_ZERO; strerr_diefusys(111, "check ", control_where(&w, PGDB_CONTROL)); }
  if (!r) return 0;
  if (op != 'r') get_hash(&hash, address);
  r = users_pg_edit(op, address, hash.s, maildir, &why);
  pw_wipe(hash.s, hash.a);
  if (r < 0) strerr_diefu(111, "update the database for ", address);
  if (!r) strerr_dief(100, address, ": ", why);
  pgdb_close();
  return 1;
}

int main(int argc, char const *const *argv)
{
  stralloc fn = STRALLOC_ZERO, src = STRALLOC_ZERO, out = STRALLOC_ZERO, hash = STRALLOC_ZERO, md = STRALLOC_ZERO;
  struct stat st;
  char const *why;
  char op;
  int fd, r, exists;
  PROG = "tern-passwd";
  umask(077);
  if (argc == 2 && !strcmp(argv[1], "-h"))
  {
    get_hash(&hash, "the new account");
    if (buffer_puts(buffer_1, hash.s) < 0 || buffer_putsflush(buffer_1, "\n") < 0) strerr_diefu1sys(111, "write to stdout");
    return 0;
  }
  if (argc < 3) dieusage();
  if (!strcmp(argv[1], "add") && argc <= 4) op = 'a';
  else if (!strcmp(argv[1], "change") && argc == 3) op = 'c';
  else if (!strcmp(argv[1], "remove") && argc == 3) op = 'r';
  else dieusage();
  if (op == 'a')
  {
    if (argc == 4) { if (!stralloc_cats(&md, argv[3]) || !stralloc_0(&md)) strerr_diefu1sys(111, "stralloc_catb"); }
    else default_maildir(&md, argv[2]);
  }
  if (in_database(op, argv[2], md.s)) return 0;
  path(&fn, "users.lock");
  fd = open(fn.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || fd_lock(fd, 1, 0) < 1) strerr_diefu2sys(111, "lock ", fn.s);
  path(&fn, "users");
  exists = stat(fn.s, &st) == 0;
  if (!exists && errno != ENOENT) strerr_diefu2sys(111, "stat ", fn.s);
  if (exists && !openslurpclose(&src, fn.s)) strerr_diefu2sys(111, "read ", fn.s);
  if (op != 'r') get_hash(&hash, argv[2]);
  r = pw_users_edit(&out, src.s, src.len, op, argv[2], hash.s, md.s, &why);
  if (r < 0) strerr_diefu1sys(111, "edit the users file");
  if (!r) strerr_dief3x(100, argv[2], ": ", why);
  if (op == 'a') make_maildir(md.s);
  write_users(&out, exists ? &st : 0);
  rebuild(exists ? &st : 0);
  return 0;
}
