/* Unit tests for auth/pw_*.c: checkpassword input, crypt checks, users file edits. */
#include <skalibs/stralloc.h>
#include "tap.h"
#include "../../auth/pw.h"

#define S(x) x, sizeof(x) - 1

static char const users[] =
  "# accounts\n"
  "joe@x.test:$6$old:mail/joe/Maildir/\n"
  "\n"
  "ann@x.test::mail/ann/Maildir/\n"
  "JOE@X.TEST:$6$dup:mail/joe2/Maildir/";

/* out, NUL-terminated for strstr (the terminator is not part of the text). */
static char const *str(stralloc *sa)
{
  if (!stralloc_0(sa)) return "";
  sa->len--;
  return sa->s;
}

int main(void)
{
  char const *u, *p, *why;
  stralloc h = STRALLOC_ZERO, out = STRALLOC_ZERO;
  ok(pw_split(S("joe\0pw\0" "123\0"), &u, &p) && !strcmp(u, "joe") && !strcmp(p, "pw"), "user, password, timestamp");
  ok(pw_split(S("joe\0pw\0"), &u, &p), "timestamp missing is fine");
  ok(pw_split(S("joe\0\0"), &u, &p) && !*p, "empty password splits (and is refused later)");
  ok(!pw_split(S("joe\0pw"), &u, &p), "no NUL after the password: refused");
  ok(!pw_split(S("joe"), &u, &p), "no NUL at all: refused");
  ok(!pw_split(S("joe\0pw\0" "1\0extra"), &u, &p), "bytes after the timestamp: refused");
  ok(!pw_split(S("joe\0pw\0" "123"), &u, &p), "unterminated timestamp: refused");

  ok(pw_equal(S("abc"), S("abc")) && !pw_equal(S("abc"), S("abd")) && !pw_equal(S("abc"), S("abcd")), "pw_equal");
  ok(pw_hash(&h, "s3cret") && (!strncmp(h.s, "$y$", 3) || !strncmp(h.s, "$6$", 3)), "hash is yescrypt or SHA-512-crypt: %s", h.s);
  is_int(pw_verify(h.s, "s3cret"), 1, "right password");
  is_int(pw_verify(h.s, "s3cre"), 0, "wrong password");
  is_int(pw_verify("$6$rounds=1000$salt$Ft8bw8PdQfHkS6hYFlSHRVk6cp1n5/WgVxvBd3dFXuN5MAbFKyoZ3G6k5PfQa0J.L8lgzfCGnr/ebiMyVPN0R1", "x"), 0, "SHA-512-crypt hash checked");
  is_int(pw_verify("", "anything"), 0, "empty hash: cannot log in");
  is_int(pw_verify("!$6$x$y", "anything"), 0, "locked hash: cannot log in");
  is_int(pw_verify(0, "anything"), 0, "unknown user: no");
  is_int(pw_verify("$9$garbage", "x"), -1, "corrupt hash: error");

  is_int(pw_users_edit(&out, S(users), 'c', "Joe@x.test", "$y$new", 0, &why), 1, "change");
  ok(strstr(str(&out), "joe@x.test:$y$new:mail/joe/Maildir/\n") && strstr(str(&out), "JOE@X.TEST:$y$new:mail/joe2/Maildir/\n"), "every line of the address changed");
  ok(strstr(str(&out), "# accounts\n") && strstr(str(&out), "ann@x.test::mail/ann/Maildir/\n"), "other lines kept");
  is_int(pw_users_edit(&out, S(users), 'r', "joe@X.test", 0, 0, &why), 1, "remove");
  ok(!strstr(str(&out), "joe@") && !strstr(str(&out), "JOE@") && strstr(str(&out), "ann@"), "both lines of the address removed");
  is_int(pw_users_edit(&out, S(users), 'a', "ann@x.test", "$y$n", "m/", &why), 0, "add an existing user refused");
  is_str(why, "already a user", "reason");
  is_int(pw_users_edit(&out, S(users), 'c', "bob@x.test", "$y$n", 0, &why), 0, "change an unknown user refused");
  is_int(pw_users_edit(&out, S(users), 'a', "bob@x.test", "$y$n", "mail/bob/Maildir/", &why), 1, "add");
  ok(out.len > 35 && !memcmp(out.s + out.len - 35, "\nbob@x.test:$y$n:mail/bob/Maildir/\n", 35), "appended as the last line");
  ok(strstr(str(&out), "mail/joe2/Maildir/\nbob@x.test:$y$n:mail/bob/Maildir/\n") != 0, "newline added to an unterminated last line");
  is_int(pw_users_edit(&out, S(users), 'a', "bob@x.test", "$y$n", "../etc/", &why), 0, "bad Maildir refused");
  is_int(pw_users_edit(&out, S(users), 'a', "bob", "$y$n", "m/", &why), 0, "address without @ refused");
  return done_testing();
}
