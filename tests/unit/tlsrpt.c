/* Unit tests for lib/tlsrpt.c: the TLS reporting record, the _smtp._tls TXT record, JSON strings. */
#include <string.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "tlsrpt.h"

#define S(x) x, sizeof(x) - 1

static int parse(char const *line, tlsrpt_rec *r, char *buf)
{
  size_t n = strlen(line);
  memcpy(buf, line, n + 1);
  return tlsrpt_rec_parse(buf, n, r);
}

static void record(void)
{
  static char buf[TLSRPT_LINE_MAX + 2];
  stralloc sa = STRALLOC_ZERO;
  tlsrpt_rec r = { .when = 1765000000, .domain = "enf.test", .type = "sts", .result = "starttls-not-supported",
                   .mx = "mx.enf.test", .rip = "127.0.0.3", .lip = "127.0.0.1", .policy = "enforce,86400,mx.enf.test,*.w.test" };
  tlsrpt_rec p;
  ok(tlsrpt_rec_format(&sa, &r), "format");
  is_int(sa.len, strlen("t1 1765000000 enf.test sts starttls-not-supported mx.enf.test 127.0.0.3 127.0.0.1 enforce,86400,mx.enf.test,*.w.test\n"),
         "one line");
  ok(sa.len && sa.s[sa.len - 1] == '\n' && !memchr(sa.s, '\n', sa.len - 1), "a single line end");
  ok(tlsrpt_rec_parse(sa.s, sa.len - 1, &p), "parses back");
  ok(p.when == 1765000000 && !strcmp(p.domain, "enf.test") && !strcmp(p.type, "sts")
     && !strcmp(p.result, "starttls-not-supported") && !strcmp(p.mx, "mx.enf.test") && !strcmp(p.rip, "127.0.0.3")
     && !strcmp(p.lip, "127.0.0.1") && !strcmp(p.policy, "enforce,86400,mx.enf.test,*.w.test"), "every field");

  sa.len = 0;
  r.mx = "evil name\n t1 0 x.test sts success";
  r.rip = 0; r.lip = ""; r.policy = 0;
  ok(tlsrpt_rec_format(&sa, &r), "a name with blanks and a newline is written");
  ok(!memchr(sa.s, '\n', sa.len - 1) && tlsrpt_rec_parse(sa.s, sa.len - 1, &p), "as one record that parses");
  is_str(p.mx, "evil?name??t1?0?x.test?sts?success", "the odd characters replaced");
  is_str(p.rip, "-", "missing address: -");
  is_str(p.lip, "-", "empty field: -");
  sa.len = 0;
  r.domain = "Up.test";
  ok(!tlsrpt_rec_format(&sa, &r) && !sa.len, "an uppercase domain is refused");
  r.domain = "../x";
  ok(!tlsrpt_rec_format(&sa, &r), "a path as domain is refused");
  r.domain = "a.test"; r.result = "ok";
  ok(!tlsrpt_rec_format(&sa, &r), "an unknown result type is refused");
  r.result = "success"; r.type = "dane";
  ok(!tlsrpt_rec_format(&sa, &r), "an unknown policy type is refused");

  ok(parse("t1 5 a.test no-policy-found success mx.a.test ::1 ::1 -", &p, buf), "IPv6 addresses");
  ok(!parse("t1 5 a.test no-policy-found success mx.a.test ::1 ::1", &p, buf), "8 fields refused");
  ok(!parse("t1 5 a.test no-policy-found success mx.a.test ::1 ::1 - x", &p, buf), "10 fields refused");
  ok(!parse("t2 5 a.test no-policy-found success mx.a.test ::1 ::1 -", &p, buf), "another version refused");
  ok(!parse("t1 5x a.test no-policy-found success mx.a.test ::1 ::1 -", &p, buf), "bad time refused");
  ok(!parse("t1  a.test no-policy-found success mx.a.test ::1 ::1 -", &p, buf), "empty time refused");
  ok(!parse("t1 5 a..test no-policy-found success mx.a.test ::1 ::1 -", &p, buf), "bad domain refused");
  ok(!parse("t1 5 a.test no-policy-found success mx/a.test ::1 ::1 -", &p, buf), "bad mx refused");
  ok(!parse("t1 5 a.test no-policy-found success mx.a.test ::1x ::1 -", &p, buf), "bad address refused");
  ok(!parse("t1 5 a.test sts success mx.a.test ::1 ::1 enforce,1,\"x\"", &p, buf), "quote in policy refused");
  ok(!parse("t1 5 a.test sts success mx.a.test  ::1 -", &p, buf), "empty field refused");
  {
    char nul[] = "t1 5 a.test sts success m\0 ::1 ::1 -";
    ok(!tlsrpt_rec_parse(nul, sizeof nul - 1, &p), "NUL inside refused");
  }
  memset(buf, 'a', TLSRPT_LINE_MAX + 1);
  ok(!tlsrpt_rec_parse(buf, TLSRPT_LINE_MAX + 1, &p), "a line over the limit refused");
  stralloc_free(&sa);
}

static void txt(void)
{
  stralloc rua = STRALLOC_ZERO;
  unsigned int https;
  ok(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:reports@example.com"), &rua, &https) == 1 && https == 0,
     "RFC example");
  ok(rua.len == 20 && !strcmp(rua.s, "reports@example.com"), "its address");
  rua.len = 0;
  ok(tlsrpt_txt_parse(S("v=TLSRPTv1;rua=mailto:a@x.test , https://r.test/x,mailto:b%2Bc@y.test?subject=x;"), &rua, &https) == 1,
     "two mailto and an https, blanks, a final ;");
  ok(https == 1 && !strcmp(rua.s, "a@x.test") && !strcmp(rua.s + 9, "b+c@y.test"), "https counted; the query part dropped");
  rua.len = 0;
  ok(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=https://r.test/x"), &rua, &https) == 1 && https == 1 && !rua.len, "https only");
  ok(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:r%40x.test@y.test"), &rua, &https) == -1, "two @ after decoding refused");
  ok(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:rpt%2Bd@x.test"), &rua, &https) == 1 && !strcmp(rua.s, "rpt+d@x.test"),
     "percent-decoded");
  rua.len = 0;
  ok(tlsrpt_txt_parse(S("v=TLSRPTv1; ext=1; rua=mailto:a@x.test; ext2=y"), &rua, &https) == 1, "extensions ignored");
  rua.len = 0;
  is_int(tlsrpt_txt_parse(S("v=spf1 -all"), &rua, &https), 0, "another record is not ours");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv10; rua=mailto:a@x.test"), &rua, &https), 0, "v=TLSRPTv10 is not ours");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1"), &rua, &https), -1, "no rua: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua="), &rua, &https), -1, "empty rua: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a@x.test,"), &rua, &https), -1, "trailing comma: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a@x.test; rua=mailto:b@x.test"), &rua, &https), -1, "two rua: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a b@x.test"), &rua, &https), -1, "blank in address: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:-bp@x.test"), &rua, &https), -1, "a leading '-' (an option to tern-inject): invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:%2Dt@x.test"), &rua, &https), -1, "the same, percent-encoded");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:<a@x.test>"), &rua, &https), -1, "brackets: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a@x.test%0A"), &rua, &https), -1, "encoded newline: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a@x.test%"), &rua, &https), -1, "cut percent: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:@x.test"), &rua, &https), -1, "no local part: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a@"), &rua, &https), -1, "no domain: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1 rua=mailto:a@x.test"), &rua, &https), -1, "no ; after version: invalid");
  is_int(tlsrpt_txt_parse(S("v=TLSRPTv1; =x; rua=mailto:a@x.test"), &rua, &https), -1, "nameless field: invalid");
  is_int(rua.len, 0, "nothing left in rua after refusals");
  ok(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:1@x.t,mailto:2@x.t,mailto:3@x.t,mailto:4@x.t,mailto:5@x.t,"
                        "mailto:6@x.t,mailto:7@x.t,mailto:8@x.t,mailto:9@x.t"), &rua, &https) == 1, "nine addresses");
  {
    size_t i, k = 0;
    for (i = 0; i < rua.len; i += strlen(rua.s + i) + 1) k++;
    is_int(k, TLSRPT_RUA_MAX, "only the first TLSRPT_RUA_MAX kept");
  }
  stralloc_free(&rua);
}

static void json(void)
{
  stralloc sa = STRALLOC_ZERO;
  ok(tlsrpt_json_str(&sa, "a\"b\\c\n\x01\x7f\xc3\xa9") && stralloc_0(&sa), "escape");
  is_str(sa.s, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\xc3\xa9\"", "quotes, backslash, controls, DEL escaped; UTF-8 kept");
  stralloc_free(&sa);
  ok(tlsrpt_result_ok("sts-webpki-invalid") && !tlsrpt_result_ok("sts") && tlsrpt_result_policy("sts-policy-invalid")
     && !tlsrpt_result_policy("validation-failure"), "result types");
}

int main(void)
{
  record();
  txt();
  json();
  return done_testing();
}
