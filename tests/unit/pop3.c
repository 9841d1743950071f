/* pop3.c: unit tests for tern-pop3d's helpers (pop3/pop3_cmd.c, pop3_msg.c,
 * pop3_maildir.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include "tap.h"
#include "../../pop3/pop3.h"
#include "../../pop3/pop3_where.h"
#include "dataenc.h"
#include "users.h"

/* s[0..n) converted in chunks of k bytes, as POP3 sends it. */
static char const *convn(char const *s, size_t n, uint64_t maxbody, size_t k)
{
  static stralloc out = STRALLOC_ZERO;
  dataenc c;
  size_t i;
  out.len = 0;
  dataenc_init(&c, maxbody);
  for (i = 0; i < n && !c.done; i += k)
    dataenc_put(&c, s + i, i + k > n ? n - i : k, &out);
  dataenc_end(&c, &out);
  stralloc_0(&out);
  return out.s;
}

static char const *conv(char const *s, uint64_t maxbody, size_t k)
{
  return convn(s, strlen(s), maxbody, k);
}

static void test_conv(void)
{
  size_t k;
  for (k = 1; k <= 64; k += 63)
  {
    is_str(conv("A: b\n\nbody\n", UINT64_MAX, k), "A: b\r\n\r\nbody\r\n.\r\n", "LF becomes CR LF (chunks of %zu)", k);
    is_str(conv("A: b\r\n\r\nbody\r\n", UINT64_MAX, k), "A: b\r\n\r\nbody\r\n.\r\n", "CR LF kept, not doubled (chunks of %zu)", k);
    is_str(conv("A: b\n\n.\n..x\n", UINT64_MAX, k), "A: b\r\n\r\n..\r\n...x\r\n.\r\n", "leading dots stuffed (chunks of %zu)", k);
    is_str(conv("A: b\n\nno end", UINT64_MAX, k), "A: b\r\n\r\nno end\r\n.\r\n", "missing last line end added (chunks of %zu)", k);
    is_str(conv("A: b\n\n1\n2\n3\n", 2, k), "A: b\r\n\r\n1\r\n2\r\n.\r\n", "TOP 2 (chunks of %zu)", k);
    is_str(conv("A: b\r\nC: d\r\n\r\n1\r\n", 0, k), "A: b\r\nC: d\r\n\r\n.\r\n", "TOP 0: the header and the blank line (chunks of %zu)", k);
    is_str(conv("A: b\n", 0, k), "A: b\r\n.\r\n", "TOP 0 with no body (chunks of %zu)", k);
    is_str(conv("A: b\n\n1\n\n2\n", 1, k), "A: b\r\n\r\n1\r\n.\r\n", "TOP counts body lines, blank ones too (chunks of %zu)", k);
    /* whatever the Maildir file holds, no lax client reads an early end */
    is_str(convn("A: b\n\nx\n\0.\nMAIL\n", 15, UINT64_MAX, k), "A: b\r\n\r\nx\r\n..\r\nMAIL\r\n.\r\n",
           "NUL dropped: a NUL-dot line is stuffed (chunks of %zu)", k);
    is_str(conv("A: b\n\nx\r.\ry\n", UINT64_MAX, k), "A: b\r\n\r\nx\r\n..\r\ny\r\n.\r\n",
           "a lone CR ends a line: the dot after it is stuffed (chunks of %zu)", k);
    is_str(conv("A: b\r\r\n1\r\n2\n", 1, k), "A: b\r\n\r\n1\r\n.\r\n",
           "CR CR LF: two line ends, the second ends the header (chunks of %zu)", k);
  }
  is_str(conv("", UINT64_MAX, 1), ".\r\n", "empty message");
}

static void test_split(void)
{
  char line[64], *verb, *args[2];
  strcpy(line, "list 3");
  is_int(pop3_split(line, &verb, args, 2, 0), 1, "one argument");
  is_str(verb, "LIST", "verb uppercased");
  is_str(args[0], "3", "argument");
  strcpy(line, "TOP 1 10");
  ok(pop3_split(line, &verb, args, 2, 0) == 2 && !strcmp(args[1], "10"), "two arguments");
  strcpy(line, "TOP 1 10 x");
  is_int(pop3_split(line, &verb, args, 2, 0), -1, "too many arguments");
  strcpy(line, "LIST  3");
  is_int(pop3_split(line, &verb, args, 2, 0), -1, "double space refused");
  strcpy(line, "LIST ");
  is_int(pop3_split(line, &verb, args, 2, 0), -1, "trailing space refused");
  strcpy(line, "");
  is_int(pop3_split(line, &verb, args, 2, 0), -1, "empty line refused");
  strcpy(line, "PASS a b  c");
  ok(pop3_split(line, &verb, args, 1, 1) == 1 && !strcmp(args[0], "a b  c"), "PASS takes the rest of the line");
}

static void test_number(void)
{
  unsigned int u;
  ok(pop3_number("12", &u) && u == 12, "number");
  ok(!pop3_number("+1", &u), "sign refused");
  ok(!pop3_number("1x", &u), "junk refused");
  ok(!pop3_number("", &u), "empty refused");
  ok(!pop3_number("9999999999", &u), "ten digits refused");
}

static void test_uid(void)
{
  char uid[71], long_name[200];
  pop3_uid(uid, "1700000000.M1P2.host:2,S");
  is_str(uid, "1700000000.M1P2.host", "UID is the name before the info");
  memset(long_name, 'a', 150); long_name[150] = 0;
  pop3_uid(uid, long_name);
  ok(strlen(uid) == 64 && strspn(uid, "0123456789abcdef") == 64, "long name: hashed to 64 hex digits");
  pop3_uid(uid, "a b:2,");
  ok(strlen(uid) == 64, "name with a space: hashed");
}

static void put(char const *path, char const *text)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) { if (write(fd, text, strlen(text)) < 0) {} close(fd); }
}

static void test_box(void)
{
  char dir[] = "/tmp/tern-pop3-unit-XXXXXX", cmd[128], cwd[1024];
  pop3_box b = POP3_BOX_ZERO;
  uint64_t sz;
  if (!mkdtemp(dir) || !getcwd(cwd, sizeof cwd) || chdir(dir) < 0) { ok(0, "setup"); return; }
  mkdir("new", 0700); mkdir("cur", 0700); mkdir("tmp", 0700);
  put("new/2.b.h", "S: 2\n\nx\n");
  put("cur/1.a.h:2,S", "S: 1\r\n\r\ny\r\n");
  put("cur/.hidden", "x");
  put("tmp/3.c.h", "x");
  put("new/4.d.h,W=99", "x");
  is_int(pop3_box_scan(&b, 100), 1, "scan");
  is_int(pop3_box_n(&b), 3, "three messages: hidden and tmp/ files left out");
  ok(access("cur/2.b.h,W=11:2,", F_OK) == 0 && access("new/2.b.h", F_OK) < 0, "new/ moved to cur/ with its CR LF size and :2,");
  ok(access("cur/4.d.h,W=99:2,", F_OK) == 0, "a name with ,W= already keeps it");
  ok(pop3_msg_size("cur/2.b.h,W=11:2,", "2.b.h:2,", &sz) == 1 && sz == 11, "size counts CR LF");
  ok(pop3_msg_size("cur/4.d.h,W=99:2,", "4.d.h,W=99:2,", &sz) == 1 && sz == 99, "size from ,W= in the name");
  {
    /* sent as "S: 3\r\n\r\n..\r\nx\r\n": 15 bytes, one of them stuffing */
    int fd = open("tmp/5.e.h", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ok(fd >= 0 && write(fd, "S: 3\n\n\0.\rx", 10) == 10 && close(fd) == 0
       && pop3_msg_size("tmp/5.e.h", "5.e.h", &sz) == 1 && sz == 14, "size as sent: NUL dropped, lone CR a line end, no stuffing");
  }
  pop3_box_msg(&b, 0)->deleted = 1;
  is_int(pop3_box_commit(&b), 0, "commit");
  is_int(pop3_box_n(&b), 3, "list unchanged by commit");
  {
    pop3_box c = POP3_BOX_ZERO;
    pop3_box_scan(&c, 1);
    is_int(pop3_box_n(&c), 1, "at most max messages listed");
    pop3_box_free(&c);
  }
  pop3_box_free(&b);
  {
    pop3_box e = POP3_BOX_ZERO;
    char empty[] = "/tmp/tern-pop3-empty-XXXXXX";
    if (mkdtemp(empty) && chdir(empty) == 0 && mkdir("new", 0700) == 0 && mkdir("cur", 0700) == 0)
      ok(pop3_box_scan(&e, 10) == 1 && pop3_box_n(&e) == 0, "an empty Maildir");
    else ok(0, "an empty Maildir: setup");
    rmdir("new"); rmdir("cur");
    if (chdir("/tmp") == 0) rmdir(empty);
    pop3_box_free(&e);
  }
  if (chdir(cwd) < 0) ok(0, "chdir back");
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) ok(0, "cleanup");
}

static void test_where(void)
{
  char dir[] = "/tmp/tern-pop3-where-XXXXXX", path[256];
  stralloc sa = STRALLOC_ZERO, err = STRALLOC_ZERO;
  if (!mkdtemp(dir)) { ok(0, "mkdtemp"); return; }
  setenv("TERN_HOME", dir, 1);
  snprintf(path, sizeof path, "%s/users", dir);
  put(path, "alice@x.test:!:mail/alice/Maildir/\n");
  ok(users_make(&err) == 1, "users.cdb built");
  unsetenv("MAILDIR");
  setenv("HOME", "/home/bob", 1);
  setenv("USER", "bob", 1);
  ok(pop3_where(&sa, 0) && !strcmp(sa.s, "/home/bob/Maildir/"), "not in the users table: $HOME/Maildir/");
  setenv("USER", "alice@x.test", 1);
  snprintf(path, sizeof path, "%s/mail/alice/Maildir/", dir);
  ok(pop3_where(&sa, 0) && !strcmp(sa.s, path), "tern user: the users table's Maildir");
  setenv("MAILDIR", "/srv/md/", 1);
  ok(pop3_where(&sa, 0) && !strcmp(sa.s, "/srv/md/"), "$MAILDIR first");
  ok(pop3_where(&sa, "box/") && !strcmp(sa.s, "/home/bob/box/"), "an argument: relative to $HOME");
  ok(pop3_where(&sa, "/abs/") && !strcmp(sa.s, "/abs/"), "an absolute argument");
  unsetenv("MAILDIR");
  setenv("USER", "bob", 1);
  setenv("HOME", "relative", 1);
  ok(!pop3_where(&sa, 0), "a relative $HOME is refused");
  snprintf(path, sizeof path, "rm -rf %s", dir);
  if (system(path)) ok(0, "cleanup");
  stralloc_free(&sa); stralloc_free(&err);
}

int main(void)
{
  test_where();
  test_conv();
  test_split();
  test_number();
  test_uid();
  test_box();
  return done_testing();
}
