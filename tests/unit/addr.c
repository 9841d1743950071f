/* Unit tests for lib/addr.c: RFC 5321 paths, canonical forms, and the
 * routing tricks the relay decision must see through. */
#include "tap.h"
#include "addr.h"

struct row { char const *in; int r; char const *canon; unsigned int flags; char const *dom; };

static struct row const rows[] =
{
  { "<user@Example.COM>", ADDR_OK, "user@example.com", 0, "example.com" },
  { "<>", ADDR_OK, "", ADDR_NULL, "" },
  { "<user@example.com.>", ADDR_OK, "user@example.com", 0, "example.com" },
  { "<user@example.com..>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<User.Name+tag@x.test>", ADDR_OK, "User.Name+tag@x.test", 0, "x.test" },
  { "<@a.test,@b.test:user@c.test>", ADDR_OK, "user@c.test", ADDR_ROUTE, "c.test" },
  { "<@ours.test:user@foreign.test>", ADDR_OK, "user@foreign.test", ADDR_ROUTE, "foreign.test" },
  { "<@a.test,b.test:user@c.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<@a.test user@c.test>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<@:user@c.test>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user%foreign.test@ours.test>", ADDR_OK, "user%foreign.test@ours.test", ADDR_ROUTING, "ours.test" },
  { "<foreign.test!user@ours.test>", ADDR_OK, "foreign.test!user@ours.test", ADDR_ROUTING, "ours.test" },
  { "<foreign.test!user>", ADDR_OK, "foreign.test!user", ADDR_ROUTING | ADDR_NODOMAIN, "" },
  { "<\"user@foreign.test\"@ours.test>", ADDR_OK, "\"user@foreign.test\"@ours.test", ADDR_QUOTED | ADDR_ROUTING, "ours.test" },
  { "<\"joe\"@x.test>", ADDR_OK, "joe@x.test", ADDR_QUOTED, "x.test" },
  { "<\"a b\\\"c\"@x.test>", ADDR_OK, "\"a b\\\"c\"@x.test", ADDR_QUOTED, "x.test" },
  { "<\"a\\\\b\"@x.test>", ADDR_OK, "\"a\\\\b\"@x.test", ADDR_QUOTED, "x.test" },
  { "<\"\"@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<\"unterminated@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<\"a\tb\"@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<user@foreign.test@ours.test>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@[127.0.0.1]>", ADDR_OK, "user@[127.0.0.1]", ADDR_LITERAL, "[127.0.0.1]" },
  { "<user@[IPv6:::1]>", ADDR_OK, "user@[ipv6:::1]", ADDR_LITERAL, "[ipv6:::1]" },
  { "<user@[1.2.3]>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@[1.2.3.4.5]>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@[tag:foo]>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@[1.2.3.4>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<postmaster>", ADDR_OK, "postmaster", ADDR_NODOMAIN, "" },
  { "<user@>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<.user@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<us..er@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<user.@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<us er@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<us\\er@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "<user@x_y.test>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@-x.test>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@x-.test>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@.x.test>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<user@x.test", ADDR_ESYNTAX, 0, 0, 0 },
  { "user@x.test", ADDR_ESYNTAX, 0, 0, 0 },
  { "<user@x.test\xc3\xa9>", ADDR_EDOMAIN, 0, 0, 0 },
  { "<us\xc3\xa9r@x.test>", ADDR_ESYNTAX, 0, 0, 0 },
  { "", ADDR_ESYNTAX, 0, 0, 0 },
  { "<", ADDR_ESYNTAX, 0, 0, 0 },
};

int main(void)
{
  addr a = ADDR_ZERO;
  size_t i, used;
  for (i = 0; i < sizeof rows / sizeof *rows; i++)
  {
    struct row const *w = rows + i;
    int r = addr_parse_path(&a, w->in, strlen(w->in), &used);
    is_int(r, w->r, "%s: result", w->in);
    if (r || w->r) continue;
    is_str(a.s.s, w->canon, "%s: canonical form", w->in);
    is_int(a.flags, w->flags, "%s: flags", w->in);
    is_str(addr_domainpart(&a), w->dom, "%s: domain", w->in);
    is_int(used, strlen(w->in), "%s: consumed up to '>'", w->in);
  }
  {
    char const *s = "<a@b.test> SIZE=10";
    ok(addr_parse_path(&a, s, strlen(s), &used) == ADDR_OK && used == 10, "parameters after the path are left alone");
  }
  {
    char buf[1200];
    memset(buf, 'a', sizeof buf);
    buf[0] = '<'; memcpy(buf + 600, "@x.test>", 8);
    is_int(addr_parse_path(&a, buf, 608, &used), ADDR_ELONG, "a 600-byte address is too long");
    memcpy(buf + 1, "u@", 2);
    memset(buf + 3, 'b', 70); memcpy(buf + 73, ".test>", 6);
    is_int(addr_parse_path(&a, buf, 79, &used), ADDR_EDOMAIN, "a 70-byte label is refused");
  }
  {
    stralloc sa = STRALLOC_ZERO;
    int lit;
    ok(addr_domain(&sa, "Ours.TEST.", 10, &lit) == ADDR_OK && sa.len == 9 && !memcmp(sa.s, "ours.test", 9) && !lit, "domain canonical: case and trailing dot");
    sa.len = 0;
    ok(addr_domain(&sa, "[010.0.0.1]", 11, &lit) == ADDR_OK && lit, "literal with leading zeros scans");
    stralloc_free(&sa);
  }
  addr_free(&a);
  return done_testing();
}
