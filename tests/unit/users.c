/* Unit tests for lib/users.c and lib/usersmake.c: the users and aliases tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "users.h"

static char home[] = "/tmp/tern-users-XXXXXX";

static void put(char const *name, char const *text)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", home, name);
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void cleanup(void)
{
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", home);
  if (system(cmd)) {}
}

static void test_parse(void)
{
  stralloc f = STRALLOC_ZERO;
  char const *why = 0;
  ok(users_parse_line(&f, "Bob@Ex.test:$6$x:mail/bob/", 26, &why) == 1, "good line parses");
  is_str(f.s, "bob@ex.test", "address lowercased");
  is_str(f.s + 12, "$6$x", "hash");
  ok(!users_parse_line(&f, "bob@ex.test:x:mail/bob", 22, &why), "maildir without / refused: %s", why);
  ok(!users_parse_line(&f, "bob:x:m/", 8, &why), "address without domain refused");
  ok(!users_parse_line(&f, "a@b:x:../m/", 11, &why), "'..' in maildir refused");
  ok(!users_parse_line(&f, "a b@c:x:m/", 10, &why), "blank in address refused");
  ok(!users_parse_line(&f, "a@c:x", 5, &why), "two fields refused");
  stralloc_free(&f);
}

static void test_tables(void)
{
  stralloc sa = STRALLOC_ZERO, h = STRALLOC_ZERO, err = STRALLOC_ZERO;
  size_t n;
  char want[256];
  mkdir(home, 0700);
  setenv("TERN_HOME", home, 1);
  ok(users_make(&err) < 0, "missing users file is a system error");
  put("users", "# demo\nalice@ex.test:$6$salt$hash:mail/alice/\n\n  Bob@EX.test::/abs/bob/  \n");
  put("aliases", "postmaster@ex.test: alice@ex.test\nlist@ex.test: <bob@ex.test>, carol@far.test\n");
  is_int(users_make(&err), 1, "tables built");
  snprintf(want, sizeof want, "%s/mail/alice/", home);
  is_int(users_maildir(&sa, "ALICE@ex.test"), 1, "user found, case folded");
  is_str(sa.s, want, "relative maildir made absolute");
  is_int(users_maildir(&sa, "alice+news@ex.test"), 1, "+detail falls back to the user");
  is_int(users_maildir(&sa, "bob@ex.test"), 1, "second user");
  is_str(sa.s, "/abs/bob/", "absolute maildir kept");
  is_int(users_maildir(&sa, "nobody@ex.test"), 0, "unknown user");
  is_int(users_password(&h, &sa, "alice@ex.test"), 1, "passwd entry");
  is_str(h.s, "$6$salt$hash", "hash");
  is_int(users_password(&h, &sa, "bob@ex.test"), 1, "passwd entry with empty hash");
  is_str(h.s, "", "empty hash");
  sa.len = 0;
  is_int(users_alias(&sa, &n, "List@ex.test"), 1, "alias found");
  ok(n == 2 && !strcmp(sa.s, "bob@ex.test") && !strcmp(sa.s + 12, "carol@far.test"), "alias targets");
  is_int(users_known("postmaster@ex.test"), 1, "alias is known");
  is_int(users_known("alice@ex.test"), 1, "user is known");
  is_int(users_known("eve@ex.test"), 0, "stranger unknown");
  put("users", "alice@ex.test:x:mail/alice/\nbroken line\n");
  is_int(users_make(&err), 0, "syntax error reported");
  is_str(err.s, "users line 2: expected address:hash:maildir", "error names file and line");
  is_int(users_maildir(&sa, "bob@ex.test"), 1, "old tables kept after a failed build");
  put("users", "alice@ex.test:x:mail/alice/\n");
  put("aliases", "x@ex.test:\n");
  is_int(users_make(&err), 0, "alias without targets refused");
  stralloc_free(&sa); stralloc_free(&h); stralloc_free(&err);
}

static void test_locals(void)
{
  stralloc l = STRALLOC_ZERO;
  put("control/me", "mx.ex.test\n");
  is_int(users_locals_load(&l), 1, "locals default to me");
  ok(users_is_local(&l, "a@MX.ex.test."), "me is local, case and trailing dot ignored");
  put("control/locals", "ex.test\n");
  put("control/virtualdomains", "virt.test:\n# c\nv2.test:pfx\n");
  users_locals_load(&l);
  ok(users_is_local(&l, "a@Ex.Test") && users_is_local(&l, "b@virt.test") && users_is_local(&l, "c@v2.test"),
     "locals and virtualdomains are local");
  ok(!users_is_local(&l, "a@mx.ex.test"), "me no longer local once locals exists");
  ok(!users_is_local(&l, "a@ex.test.evil"), "suffix tricks are not local");
  ok(users_is_local(&l, "postmaster"), "address without a domain is local");
  stralloc_free(&l);
}

int main(void)
{
  char d[300];
  if (!mkdtemp(home)) return 111;
  atexit(&cleanup);
  test_parse();
  test_tables();
  snprintf(d, sizeof d, "%s/control", home);
  mkdir(d, 0700);
  test_locals();
  return done_testing();
}
