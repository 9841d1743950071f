/* Unit tests for tern-remote's helpers: DATA encoding, routes, MX order, base64. */
#include <skalibs/stralloc.h>
#include "tap.h"
#include "dataenc.h"
#include "../../remote/remote_route.h"
#include "../../remote/remote_mx.h"
#include "../../remote/remote_auth.h"

#define S(x) x, sizeof(x) - 1

/* Encodes s in pieces of k bytes and returns the NUL-terminated result. */
static char const *enc(stralloc *out, char const *s, size_t k)
{
  dataenc e = DATAENC_ZERO;
  size_t n = strlen(s), i;
  out->len = 0;
  for (i = 0; i < n; i += k) dataenc_put(&e, s + i, n - i < k ? n - i : k, out);
  dataenc_end(&e, out);
  stralloc_0(out);
  return out->s;
}

static void test_data(void)
{
  stralloc o = STRALLOC_ZERO;
  size_t k;
  is_str(enc(&o, "a\nb\n", 100), "a\r\nb\r\n.\r\n", "LF becomes CRLF");
  is_str(enc(&o, ".a\n..b\nc.\n.\n", 100), "..a\r\n...b\r\nc.\r\n..\r\n.\r\n", "leading dots doubled");
  is_str(enc(&o, "x", 100), "x\r\n.\r\n", "last line terminated");
  is_str(enc(&o, "", 100), ".\r\n", "empty message");
  for (k = 1; k <= 3; k++)
  {
    is_str(enc(&o, "a\r\n.\r\nMAIL\n", k), "a\r\n..\r\nMAIL\r\n.\r\n", "CRLF kept as one line end (pieces of %zu)", k);
    is_str(enc(&o, "a\r.\rb", k), "a\r\n..\r\nb\r\n.\r\n", "lone CR is a line end, dot stuffed (pieces of %zu)", k);
    is_str(enc(&o, "a\n\r.\n", k), "a\r\n\r\n..\r\n.\r\n", "LF CR: two line ends (pieces of %zu)", k);
  }
  stralloc_free(&o);
}

static void test_routes(void)
{
  stralloc l = STRALLOC_ZERO;
  relay r;
  int pol;
  stralloc u = STRALLOC_ZERO, p = STRALLOC_ZERO;
  stralloc_catb(&l, S("a.test:mx.a.test:2525\0.b.test:[10.0.0.1]\0B.test:\0:smart.test\0"));
  is_str(route_find(&l, "a.test"), "mx.a.test:2525", "exact domain");
  is_str(route_find(&l, "x.y.b.test"), "[10.0.0.1]", ".suffix covers subdomains");
  is_str(route_find(&l, "b.test"), "", "the domain itself, any case, empty relay");
  is_str(route_find(&l, "other.org"), "smart.test", "smarthost default");
  l.len = 0;
  stralloc_catb(&l, S("a.test:x\0"));
  ok(!route_find(&l, "z.test") && !route_find(&l, "aa.test"), "no partial-label matches");
  ok(route_relay("mx.a.test:2525", &r) && !strcmp(r.host, "mx.a.test") && r.port == 2525 && !r.literal, "host:port");
  ok(route_relay("[::1]:26", &r) && r.literal && r.port == 26 && ip46_is6(&r.ip), "[v6]:port");
  ok(route_relay("10.1.2.3", &r) && r.literal && !r.port, "bare IPv4");
  ok(route_relay("", &r) && !r.host[0], "empty: use MX");
  ok(!route_relay("[10.0.0.1", &r), "unclosed bracket refused");
  ok(!route_relay("h:0", &r) && !route_relay("h:99999", &r) && !route_relay("h:2x", &r), "bad ports refused");
  ok(!route_relay("[nothost]", &r), "non-address in brackets refused");
  ok(route_tlspolicy("Verify", &pol) && pol == TLS_VERIFY, "tls policy");
  ok(!route_tlspolicy("yes", &pol), "unknown tls policy refused");
  ok(route_auth("user:pa:ss", &u, &p) && !strcmp(u.s, "user") && !strcmp(p.s, "pa:ss"), "password may hold ':'");
  ok(!route_auth(":pw", &u, &p) && !route_auth("nocolon", &u, &p), "bad auth values refused");
  stralloc_free(&l); stralloc_free(&u); stralloc_free(&p);
}

static void test_mx(void)
{
  mxhost h[4] = { { "a", 10, 0, 0 }, { "b", 20, 0, 1 }, { "c", 20, 1, 2 }, { "d", 30, 0, 3 } };
  int loop, seen_b_first = 0, seen_c_first = 0, i;
  size_t n = mx_cut_self(h, 4, &loop);
  ok(n == 1 && !loop && !strcmp(h[0].name, "a"), "self at 20 drops 20 and worse");
  h[0].self = 1;
  n = mx_cut_self(h, 1, &loop);
  ok(!n && loop, "self as best MX: loop");
  for (i = 0; i < 200; i++)
  {
    mxhost s[4] = { { "a", 10, 0, 0 }, { "b", 20, 0, 1 }, { "c", 20, 0, 2 }, { "d", 30, 0, 3 } };
    mx_shuffle(s, 4);
    if (strcmp(s[0].name, "a") || strcmp(s[3].name, "d")) break;
    seen_b_first += !strcmp(s[1].name, "b");
    seen_c_first += !strcmp(s[1].name, "c");
  }
  is_int(i, 200, "shuffle keeps preference order");
  ok(seen_b_first && seen_c_first, "equal preferences come in both orders");
}

static void test_b64(void)
{
  stralloc o = STRALLOC_ZERO;
  auth_b64(&o, "", 0); is_str(o.s, "", "b64 empty");
  o.len = 0; auth_b64(&o, "f", 1); is_str(o.s, "Zg==", "b64 1");
  o.len = 0; auth_b64(&o, "fo", 2); is_str(o.s, "Zm8=", "b64 2");
  o.len = 0; auth_b64(&o, "foobar", 6); is_str(o.s, "Zm9vYmFy", "b64 6");
  o.len = 0; auth_plain(&o, "u", "p"); is_str(o.s, "AHUAcA==", "PLAIN response");
  stralloc_free(&o);
}

int main(void)
{
  test_data();
  test_routes();
  test_mx();
  test_b64();
  return done_testing();
}
