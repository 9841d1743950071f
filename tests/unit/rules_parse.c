/* rules_parse.c: unit tests for the tcprules line parser and the keys it compiles to. */
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "../../rules/rules_parse.h"
#include "tap.h"

char const *PROG = "rules_parse.t";

static rules_rule r = RULES_RULE_ZERO;
static char keys[4096];

static int collect(char const *key, size_t klen, void *ctx)
{
  size_t n = strlen(keys);
  (void)ctx;
  if (n + klen + 2 > sizeof keys) return 0;
  if (n) keys[n++] = ' ';
  memcpy(keys + n, key, klen);
  keys[n + klen] = 0;
  return 1;
}

/* Parses line; returns its keys separated by spaces, or the error reason. */
static char const *parse(char const *line)
{
  char const *why = 0;
  int p = rules_parse_line(&r, line, strlen(line), &why);
  keys[0] = 0;
  if (p < 0) return why;
  if (!p) return "(skip)";
  if (!rules_keys(&r, &collect, 0)) return "(emit failed)";
  return keys;
}

static void good_forms(void)
{
  is_str(parse("1.2.3.4:allow"), "ip4/1.2.3.4_32", "exact IPv4");
  is_str(parse("10.1.:deny"), "ip4/10.1.0.0_16", "prefix 10.1.");
  is_str(parse("10.:deny"), "ip4/10.0.0.0_8", "prefix 10.");
  is_str(parse("192.168.1.:deny"), "ip4/192.168.1.0_24", "prefix of three octets");
  is_str(parse("10.0.0.1-3:allow"), "ip4/10.0.0.1_32 ip4/10.0.0.2_32 ip4/10.0.0.3_32", "last-octet range");
  is_str(parse("10.0.1-2.:allow"), "ip4/10.0.1.0_24 ip4/10.0.2.0_24", "range inside a prefix");
  is_str(parse("192.0.2.0/24:allow"), "ip4/192.0.2.0_24", "IPv4 CIDR");
  is_str(parse("192.0.2.128/25:allow"), "ip4/192.0.2.128_25", "IPv4 CIDR /25");
  is_str(parse("2001:db8::1:allow"), "ip6/2001:db8::1_128", "exact IPv6 without brackets");
  is_str(parse("[2001:db8::1]:allow"), "ip6/2001:db8::1_128", "exact IPv6 in brackets");
  is_str(parse("2001:db8::/32:deny"), "ip6/2001:db8::_32", "IPv6 CIDR");
  is_str(parse("[::1]:allow"), "ip6/::1_128", "::1");
  is_str(parse("dead:beef::/32:deny"), "ip6/dead:beef::_32", "hex groups that look like words");
  is_str(parse("=Mail.Example.COM.:allow"), "reversedns/mail.example.com", "=host, lowercased, trailing dot dropped");
  is_str(parse("=.example.com:allow"), "reversedns/.example.com", "=.suffix");
  is_str(parse("=:allow"), "reversedns/@", "= any host");
  is_str(parse(":deny"), "ip4/0.0.0.0_0 ip6/::_0", "default rule, both families");
  is_str(parse("0.0.0.0/0:deny"), "ip4/0.0.0.0_0", "0.0.0.0/0 is the IPv4 default");
  is_str(parse("  1.2.3.4:deny \t\r"), "ip4/1.2.3.4_32", "blanks and CR around a line");
  is_str(parse(""), "(skip)", "blank line");
  is_str(parse("   "), "(skip)", "blank line of spaces");
  is_str(parse("# 1.2.3.4:allow"), "(skip)", "comment");
}

static void env_forms(void)
{
  stralloc v = STRALLOC_ZERO;
  parse("1.2.3.4:allow,RELAYCLIENT=\"\",X='a b',Y=/q\"q/,Z");
  ok(r.allow, "allow");
  is_int(r.env.len, sizeof "RELAYCLIENT=\0X=a b\0Y=q\"q\0Z" , "variables: any quote, unset form");
  ok(!memcmp(r.env.s, "RELAYCLIENT=\0X=a b\0Y=q\"q\0Z\0", r.env.len), "variables stored as VAR=value NUL");
  ok(rules_value(&r, &v) && v.len == 5 + r.env.len && v.s[0] == 'A' && v.s[1] == 0
     && (unsigned char)v.s[2] == r.env.len, "value: A, 16-bit env length, env, 16-bit exec length");
  v.len = 0;
  parse("1.2.3.4:deny,X=\"1\"");
  ok(!r.allow && rules_value(&r, &v) && v.len == 1 && v.s[0] == 'D', "deny value is D alone");
  parse("1.2.3.4:allow,V=\"a:deny\"");
  ok(r.allow && r.env.len == sizeof "V=a:deny", "a ':deny' inside a value does not split the line");
  stralloc_free(&v);
}

static void bad_forms(void)
{
  is_str(parse("1.2.3.256:allow"), "bad IPv4 octet (want 0 to 255, no leading zero)", "octet > 255");
  is_str(parse("1.2.3.04:allow"), "bad IPv4 octet (want 0 to 255, no leading zero)", "leading zero");
  is_str(parse("1.2.3:allow"), "incomplete IPv4 address (end a prefix with '.', as in 10.1.)", "3 octets without dot");
  is_str(parse("1.2.3.4.:allow"), "unexpected character in IPv4 address", "trailing dot after 4 octets");
  is_str(parse("1.2.3.4.5:allow"), "unexpected character in IPv4 address", "5 octets");
  is_str(parse("1.2.3.9-1:allow"), "range runs backwards", "backwards range");
  is_str(parse("1.2-3.4-5:allow"), "only one range per address", "two ranges");
  is_str(parse("1.2.3.0-9/24:allow"), "a range cannot take a /length", "range with CIDR");
  is_str(parse("1.2.3.4/33:allow"), "bad prefix length (want /0 to /32)", "/33");
  is_str(parse("1.2.3.4/24:allow"), "address has bits set beyond its prefix length", "host bits set");
  is_str(parse("2001:db8::1/32:allow"), "address has bits set beyond its prefix length", "IPv6 host bits set");
  is_str(parse("2001:db8::/129:allow"), "bad prefix length (want /0 to /128)", "/129");
  is_str(parse("2001:db8:::1:allow"), "bad IPv6 address", "bad IPv6");
  is_str(parse("::ffff:1.2.3.4:allow"), "bad IPv6 address", "mapped dotted form");
  is_str(parse("::ffff:102:304:allow"), "IPv4-mapped address: write it as IPv4 (tern-tcpserver sees such clients as IPv4)", "mapped");
  is_str(parse("[1.2.3.4]:allow"), "brackets are for IPv6 addresses only", "brackets around IPv4");
  is_str(parse("[::1:allow"), "'[' without ']' before ':'", "unclosed bracket");
  is_str(parse("=bad..name:allow"), "empty label in host name", "empty label");
  is_str(parse("=bad name:allow"), "bad character in host name", "space in host name");
  is_str(parse("=.:allow"), "empty host name", "=. alone");
  is_str(parse("1.2.3.4"), "missing ':' between address and instructions", "no colon");
  is_str(parse("1.2.3.4:permit"), "instruction must start with allow or deny", "unknown instruction");
  is_str(parse("1.2.3.4:allow, X=\"1\""), "bad variable name (want letters, digits, '_')", "blank after comma");
  is_str(parse("1.2.3.4:allow X=\"1\""), "expected ',' before a variable (no blanks between instructions)", "blank instead of comma");
  is_str(parse("1.2.3.4:allowX"), "expected ',' before a variable (no blanks between instructions)", "glued word");
  is_str(parse("1.2.3.4:allow,X=\"1"), "value has no closing quote", "unterminated value");
  is_str(parse("1.2.3.4:allow,X="), "missing value after '=' (quote it, as in VAR=\"\")", "missing value");
  is_str(parse("1.2.3.4:allow,1X=\"1\""), "bad variable name (want letters, digits, '_')", "name starts with a digit");
  is_str(parse("1.2.3.4:allow,="), "bad variable name (want letters, digits, '_')", "empty name");
  is_str(parse("alice@1.2.3.4:allow"), "user@address rules (ident) are not supported", "ident rules");
  ok(rules_parse_line(&r, "1.2.3.4:allow\0x", 15, &(char const *){0}) < 0, "NUL byte refused");
}

static void long_lines(void)
{
  char *big = malloc(RULES_LINE_MAX + 100);
  char const *why = 0;
  size_t n;
  memset(big, 'a', RULES_LINE_MAX + 99);
  memcpy(big, "1.2.3.4:allow,X=\"", 17);
  big[RULES_LINE_MAX + 98] = '"';
  big[RULES_LINE_MAX + 99] = 0;
  is_int(rules_parse_line(&r, big, RULES_LINE_MAX + 99, &why), -1, "overlong line refused");
  is_str(why, "line too long", "... as too long");
  n = 17 + RULES_ENV_MAX + 10;
  big[n] = '"'; big[n + 1] = 0;
  is_str(parse(big), "variables longer than 4096 bytes in one rule", "environment over the cdb format's limit");
  memcpy(big, "=", 1);
  memset(big + 1, 'a', 300);
  memcpy(big + 301, ":allow", 7);
  is_str(parse(big), "host name longer than 253 characters", "overlong host name");
  free(big);
}

static void wide(void)
{
  parse(":allow,RELAYCLIENT=\"\""); ok(rules_is_wide_relay(&r), ":allow with RELAYCLIENT is wide");
  parse("=:allow,RELAYCLIENT=\"\""); ok(rules_is_wide_relay(&r), "= with RELAYCLIENT is wide");
  parse("=.com:allow,RELAYCLIENT=\"\""); ok(rules_is_wide_relay(&r), "=.com with RELAYCLIENT is wide");
  parse("0.0.0.0/1:allow,RELAYCLIENT=\"\""); ok(rules_is_wide_relay(&r), "/1 with RELAYCLIENT is wide");
  parse("2000::/3:allow,RELAYCLIENT=\"\""); ok(rules_is_wide_relay(&r), "2000::/3 with RELAYCLIENT is wide");
  parse("10.:allow,RELAYCLIENT=\"\""); ok(!rules_is_wide_relay(&r), "10. with RELAYCLIENT is fine");
  parse("=.example.com:allow,RELAYCLIENT=\"\""); ok(!rules_is_wide_relay(&r), "=.example.com is fine");
  parse(":allow"); ok(!rules_is_wide_relay(&r), ":allow without RELAYCLIENT is fine");
  parse(":allow,RELAYCLIENT"); ok(!rules_is_wide_relay(&r), ":allow unsetting RELAYCLIENT is fine");
  parse(":deny,RELAYCLIENT=\"\""); ok(!rules_is_wide_relay(&r), ":deny is fine");
}

int main(void)
{
  good_forms();
  env_forms();
  bad_forms();
  long_lines();
  wide();
  rules_rule_free(&r);
  return done_testing();
}
