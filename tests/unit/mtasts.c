/* Unit tests for lib/mtasts.c: the MTA-STS TXT record, policy, HTTP response, MX patterns, cache record. */
#include <skalibs/stralloc.h>
#include "tap.h"
#include "mtasts.h"

#define S(x) x, sizeof(x) - 1

static void txt(void)
{
  char id[MTASTS_ID_MAX + 1];
  is_int(mtasts_txt_parse(S("v=STSv1; id=20160831085700Z;"), id), 1, "RFC example record");
  is_str(id, "20160831085700Z", "its id");
  is_int(mtasts_txt_parse(S("v=STSv1;id=abc"), id), 1, "no spaces, no final ;");
  is_int(mtasts_txt_parse(S("v=STSv1 ; ext=x ; id=Q1 ;"), id), 1, "an extension is ignored");
  is_str(id, "Q1", "id after an extension");
  is_int(mtasts_txt_parse(S("v=spf1 -all"), id), 0, "another TXT record is not ours");
  is_int(mtasts_txt_parse(S("v=STSv10; id=1"), id), 0, "v=STSv10 is not STSv1");
  is_int(mtasts_txt_parse(S("v=STSv1;"), id), -1, "no id: invalid");
  is_int(mtasts_txt_parse(S("v=STSv1; id=a; id=b"), id), -1, "two ids: invalid");
  is_int(mtasts_txt_parse(S("v=STSv1; id=123456789012345678901234567890123"), id), -1, "33-character id: invalid");
  is_int(mtasts_txt_parse(S("v=STSv1; id=12345678901234567890123456789012"), id), 1, "32-character id");
  is_int(mtasts_txt_parse(S("v=STSv1; id=a-b"), id), -1, "id with '-': invalid");
  is_int(mtasts_txt_parse(S("v=STSv1; id=a;; x=y"), id), -1, "empty field: invalid");
  is_int(mtasts_txt_parse(S("v=STSv1; id=a\0b"), id), -1, "NUL inside: invalid");
}

static void policy(void)
{
  mtasts_policy p;
  char const *why = 0;
  ok(mtasts_policy_parse(S("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET\r\nmax_age: 86400\r\n"), &p, &why),
     "RFC-style policy");
  ok(p.mode == MTASTS_ENFORCE && p.max_age == 86400 && p.nmx == 2, "its fields");
  is_str(p.mx[1], "*.example.net", "patterns lowercased");
  ok(mtasts_policy_parse(S("mode:testing\nmax_age:1\nversion:STSv1\nmx:a.b\nfoo: bar baz"), &p, &why)
     && p.mode == MTASTS_TESTING, "LF only, any order, no space, unknown key, no final line end");
  ok(mtasts_policy_parse(S("version: STSv1\nmode: none\nmax_age: 99999999999\n"), &p, &why) == 0, "11-digit max_age refused");
  ok(mtasts_policy_parse(S("version: STSv1\nmode: none\nmax_age: 9999999999\n"), &p, &why) && p.max_age == MTASTS_MAXAGE_MAX,
     "max_age capped at a year, mode none needs no mx");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmax_age: 10\n"), &p, &why), "enforce without mx refused");
  ok(!mtasts_policy_parse(S("version: STSv2\nmode: enforce\nmx: a\nmax_age: 10\n"), &p, &why), "STSv2 refused");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmode: none\nmx: a\nmax_age: 10\n"), &p, &why), "repeated mode refused");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: Enforce!\nmx: a\nmax_age: 10\n"), &p, &why), "unknown mode refused");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 10\n"), &p, &why), "empty label refused");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmx: a.*.b\nmax_age: 10\n"), &p, &why), "inner wildcard refused");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmx: *\nmax_age: 10\n"), &p, &why), "bare * refused");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmx: a\x01\nmax_age: 10\n"), &p, &why), "control byte refused");
  ok(!mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmx a\nmax_age: 10\n"), &p, &why), "line without colon refused");
  ok(!mtasts_policy_parse(S("<html>not found</html>"), &p, &why), "an HTML page refused");
  {
    stralloc sa = STRALLOC_ZERO;
    int i;
    stralloc_cats(&sa, "version: STSv1\nmode: enforce\nmax_age: 10\n");
    for (i = 0; i <= MTASTS_MX_MAX; i++) stralloc_cats(&sa, "mx: a.test\n");
    ok(!mtasts_policy_parse(sa.s, sa.len, &p, &why), "more than %d mx lines refused", MTASTS_MX_MAX);
    stralloc_free(&sa);
  }
}

static void match(void)
{
  mtasts_policy p;
  char const *why;
  ok(mtasts_mx_match("mail.example.com", "MAIL.example.com."), "exact, any case, final dot");
  ok(!mtasts_mx_match("mail.example.com", "mail.example.co"), "shorter name");
  ok(!mtasts_mx_match("mail.example.com", "xmail.example.com"), "longer name");
  ok(mtasts_mx_match("*.example.com", "mx1.example.com"), "wildcard: one label");
  ok(!mtasts_mx_match("*.example.com", "a.b.example.com"), "wildcard: not two labels");
  ok(!mtasts_mx_match("*.example.com", "example.com"), "wildcard: not the base");
  ok(!mtasts_mx_match("*.example.com", ".example.com"), "wildcard: not an empty label");
  ok(!mtasts_mx_match("*.example.com", "mx1.badexample.com"), "wildcard: label boundary");
  ok(!mtasts_mx_match("*.example.com", ""), "empty host");
  mtasts_policy_parse(S("version: STSv1\nmode: enforce\nmx: a.test\nmx: *.b.test\nmax_age: 10\n"), &p, &why);
  ok(mtasts_policy_match(&p, "x.b.test") && mtasts_policy_match(&p, "a.test") && !mtasts_policy_match(&p, "c.test"),
     "policy match over its patterns");
}

static void http(void)
{
  size_t off, len;
  char const *why;
  char const r1[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello world";
  ok(mtasts_http_body(r1, sizeof r1 - 1, &off, &len, &why) && len == 5 && !memcmp(r1 + off, "hello", 5), "200, text/plain, Content-Length");
  ok(mtasts_http_body(S("HTTP/1.1 200 OK\ncontent-type: TEXT/PLAIN\n\nabc"), &off, &len, &why) && len == 3, "LF only, no length: to the end");
  ok(!mtasts_http_body(S("HTTP/1.1 301 Moved\r\nLocation: x\r\nContent-Type: text/plain\r\n\r\n"), &off, &len, &why), "redirect refused (RFC 8461 3.3)");
  ok(!mtasts_http_body(S("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nx"), &off, &len, &why), "text/html refused");
  ok(!mtasts_http_body(S("HTTP/1.1 200 OK\r\nContent-Type: text/plainx\r\n\r\nx"), &off, &len, &why), "text/plainx refused");
  ok(!mtasts_http_body(S("HTTP/1.1 200 OK\r\n\r\nx"), &off, &len, &why), "no Content-Type refused");
  ok(!mtasts_http_body(S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nx"), &off, &len, &why), "short body refused");
  ok(!mtasts_http_body(S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: -1\r\n\r\nx"), &off, &len, &why), "bad length refused");
  ok(!mtasts_http_body(S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"), &off, &len, &why),
     "chunked refused");
  ok(!mtasts_http_body(S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"), &off, &len, &why), "header not ended refused");
}

static void cache(void)
{
  stralloc sa = STRALLOC_ZERO;
  char id[MTASTS_ID_MAX + 1];
  uint64_t t;
  mtasts_policy p;
  char const body[] = "version: STSv1\nmode: testing\nmx: *.c.test\nmax_age: 600\n";
  ok(mtasts_cache_format(&sa, "ID7", 1234567890, body, sizeof body - 1), "format");
  ok(mtasts_cache_parse(sa.s, sa.len, id, &t, &p) && t == 1234567890 && !strcmp(id, "ID7") && p.mode == MTASTS_TESTING,
     "parse back");
  ok(!mtasts_cache_parse(sa.s, 20, id, &t, &p), "truncated header refused");
  sa.s[5] = 'X';
  ok(!mtasts_cache_parse(sa.s, sa.len, id, &t, &p), "foreign magic refused");
  ok(!mtasts_cache_parse(S("tern-mtasts 1\nid a-b\nfetched 1\n\nversion: STSv1\nmode: none\nmax_age: 1\n"), id, &t, &p), "bad id refused");
  ok(!mtasts_cache_parse(S("tern-mtasts 1\nid a\nfetched 1x\n\nversion: STSv1\nmode: none\nmax_age: 1\n"), id, &t, &p), "bad time refused");
  ok(mtasts_cache_parse(S("tern-mtasts 1\nid a\nfetched 1\n\nversion: STSv1\nmode: none\nmax_age: 1\n"), id, &t, &p), "minimal record");
  stralloc_free(&sa);
}

int main(void)
{
  txt();
  policy();
  match();
  http();
  cache();
  return done_testing();
}
