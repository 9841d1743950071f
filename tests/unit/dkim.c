/* Unit tests for dkim/: relaxed canonicalisation against RFC 6376's
 * example, the RFC 8463 appendix A message signed again with its published
 * keys (Ed25519 and RSA signatures are deterministic: ours must be the
 * RFC's, byte for byte), the From domain, control/dkimdomains, the header
 * scan, the h= list and the DKIM-Signature field. */
#include <string.h>
#include <bearssl.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "b64.h"
#include "../../dkim/dkim_canon.h"
#include "../../dkim/dkim_conf.h"
#include "../../dkim/dkim_der.h"
#include "../../dkim/dkim_from.h"
#include "../../dkim/dkim_head.h"
#include "../../dkim/dkim_key.h"
#include "../../dkim/dkim_sig.h"

static char const *hcanon(char const *field)
{
  static stralloc sa = STRALLOC_ZERO;
  sa.len = 0;
  if (!dkim_canon_header(&sa, field, strlen(field)) || !stralloc_0(&sa)) return "(nomem)";
  return sa.s;
}

/* The canonical body of s, fed in pieces of step bytes. */
static char const *bcanon(char const *s, size_t step, char *b64hash)
{
  static stralloc out = STRALLOC_ZERO;
  stralloc h = STRALLOC_ZERO;
  unsigned char hash[32];
  dkim_body b;
  size_t i, n = strlen(s);
  out.len = 0;
  dkim_body_init(&b, &out);
  for (i = 0; i < n; i += step) dkim_body_put(&b, s + i, n - i < step ? n - i : step);
  dkim_body_end(&b, hash);
  if (b64hash && b64_encode(&h, (char const *)hash, 32)) strcpy(b64hash, h.s);
  stralloc_free(&h);
  if (!stralloc_0(&out)) return "(nomem)";
  out.len--;
  return out.s;
}

static void canon(void)
{
  char h[64];
  /* RFC 6376 section 3.4.5 */
  is_str(hcanon("A: X"), "a:X", "RFC 6376 3.4.5: header A");
  is_str(hcanon("B : Y\t\r\n\tZ  "), "b:Y Z", "RFC 6376 3.4.5: header B (unfolded, blanks collapsed, trimmed)");
  is_str(bcanon(" C \r\nD \t E\r\n\r\n\r\n", 4096, 0), " C\r\nD E\r\n", "RFC 6376 3.4.5: body");
  is_str(hcanon("SUBJECT:\tx \t y\n z\t"), "subject:x y z", "LF folding, tabs, name lowercased");
  is_str(hcanon("X-Empty:"), "x-empty:", "an empty value");
  is_str(hcanon("X-Blank:   \n   "), "x-blank:", "a value of blanks only");
  is_str(bcanon("", 4096, h), "", "empty body: empty");
  is_str(h, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "its hash is SHA-256 of nothing");
  is_str(bcanon("\n\n \t\n", 4096, 0), "", "only empty and blank lines: empty");
  is_str(bcanon("abc", 4096, 0), "abc\r\n", "a last line without its line end gets CRLF");
  is_str(bcanon("a\nb\r\nc\rd\n", 4096, 0), "a\r\nb\r\nc\r\nd\r\n", "LF, CRLF and a lone CR are each one line end (as tern-remote sends them)");
  is_str(bcanon("x\r\n\r\n", 4096, 0), "x\r\n", "CR LF CR LF at the end: one line");
  is_str(bcanon("a\n\n\nb\n\n", 4096, 0), "a\r\n\r\n\r\nb\r\n", "empty lines inside stay, at the end go");
  is_str(bcanon("\t lead\n", 4096, 0), " lead\r\n", "leading blanks become one SP");
  is_str(bcanon("caf\xe9 \xff\x80\n", 4096, 0), "caf\xe9 \xff\x80\r\n", "8-bit bytes go through");
  {
    char const *m = " C \r\nD \t E\r\n\r\nx\ry \t\r\n\r\n\r\n";
    char whole[256];
    strcpy(whole, bcanon(m, 4096, 0));
    is_str(bcanon(m, 1, 0), whole, "fed a byte at a time: the same");
    is_str(bcanon(m, 3, 0), whole, "fed 3 bytes at a time: the same");
  }
}

/* RFC 8463 appendix A: the message and its keys. */
static char const rfc_msg[] =
  "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\n"
  " d=football.example.com; i=@football.example.com;\n"
  " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n"
  " subject : date : message-id : from : subject : date;\n"
  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
  " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\n"
  " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\n"
  "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
  " d=football.example.com; i=@football.example.com;\n"
  " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n"
  " date : message-id : from : subject : date;\n"
  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
  " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\n"
  " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\n"
  " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\n"
  "From: Joe SixPack <joe@football.example.com>\n"
  "To: Suzie Q <suzie@shopping.example.net>\n"
  "Subject: Is dinner ready?\n"
  "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
  "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
  "\n"
  "Hi.\n"
  "\n"
  "We lost the game.  Are you hungry yet?\n"
  "\n"
  "Joe.\n";

/* Each signature field with its b= value taken out (RFC 6376 3.7). */
static char const rfc_ed_unsigned[] =
  "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\n"
  " d=football.example.com; i=@football.example.com;\n"
  " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n"
  " subject : date : message-id : from : subject : date;\n"
  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
  " b=";
static char const rfc_rsa_unsigned[] =
  "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
  " d=football.example.com; i=@football.example.com;\n"
  " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n"
  " date : message-id : from : subject : date;\n"
  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
  " b=";
static char const rfc_hlist[] = "from : to :\n subject : date : message-id : from : subject : date";
static char const rfc_ed_seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static char const rfc_rsa_key[] =
  "-----BEGIN RSA PRIVATE KEY-----\n"
  "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
  "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
  "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
  "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
  "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
  "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
  "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
  "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
  "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
  "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
  "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
  "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
  "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
  "-----END RSA PRIVATE KEY-----\n";

/* The Ed25519 key as tern-dkimkey writes one: PKCS#8 PEM. */
static void ed_pem(stralloc *pem)
{
  stralloc seed = STRALLOC_ZERO, der = STRALLOC_ZERO;
  b64_decode(&seed, rfc_ed_seed, strlen(rfc_ed_seed));
  dkim_der_ed25519_pkcs8(&der, (unsigned char const *)seed.s);
  stralloc_cats(pem, "-----BEGIN PRIVATE KEY-----\n");
  b64_encode(pem, der.s, der.len);
  stralloc_cats(pem, "\n-----END PRIVATE KEY-----\n");
  stralloc_free(&seed);
  stralloc_free(&der);
}

/* Signs the RFC message's header again with key k and sig field u; the
 * base64 of the signature. */
static char const *resign(char const *pem, size_t n, char const *u, char const *want_alg, char const *want_record)
{
  static stralloc out = STRALLOC_ZERO;
  stralloc rec = STRALLOC_ZERO;
  genalloc f = GENALLOC_ZERO;
  dkim_hscan st = DKIM_HSCAN_ZERO;
  dkim_key k;
  char const *why = "";
  unsigned char hash[32], sig[DKIM_SIG_MAX];
  size_t hlen, body;
  out.len = 0;
  dkim_head_end(&st, rfc_msg, sizeof rfc_msg - 1, 1, &hlen, &body);
  dkim_head_fields(&f, rfc_msg, hlen);
  ok(dkim_key_parse(&k, pem, n, &why), "the %s key reads (%s)", want_alg, why);
  is_str(dkim_key_alg(&k), want_alg, "its algorithm");
  dkim_key_record(&rec, &k);
  stralloc_0(&rec);
  is_str(rec.s, want_record, "%s: the DNS record is the RFC's (A.2)", want_alg);
  ok(dkim_head_hash(hash, rfc_msg, genalloc_s(dkim_field, &f), genalloc_len(dkim_field, &f), rfc_hlist, u, strlen(u)),
     "header hash");
  ok(dkim_key_sign(&k, hash, sig), "signed");
  b64_encode(&out, (char const *)sig, dkim_key_siglen(&k));
  dkim_key_wipe(&k);
  genalloc_free(dkim_field, &f);
  stralloc_free(&rec);
  return out.s;
}

static void rfc8463(void)
{
  stralloc pem = STRALLOC_ZERO;
  char bh[64];
  size_t hlen, body;
  dkim_hscan st = DKIM_HSCAN_ZERO;
  ok(dkim_head_end(&st, rfc_msg, sizeof rfc_msg - 1, 1, &hlen, &body), "RFC 8463 A.3: the header ends");
  bcanon(rfc_msg + body, 4096, bh);
  is_str(bh, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=", "RFC 8463 A.3: the body hash (bh=)");
  ed_pem(&pem);
  is_str(resign(pem.s, pem.len, rfc_ed_unsigned, "ed25519-sha256",
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
    "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
    "RFC 8463 A.3: our ed25519-sha256 signature is the RFC's, byte for byte");
  is_str(resign(rfc_rsa_key, sizeof rfc_rsa_key - 1, rfc_rsa_unsigned, "rsa-sha256",
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"),
    "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=",
    "RFC 8463 A.3: our rsa-sha256 signature is the RFC's, byte for byte");
  stralloc_free(&pem);
}

static char const *from(char const *v)
{
  static stralloc sa = STRALLOC_ZERO;
  return dkim_from_domain(&sa, v, strlen(v)) ? sa.s : "(none)";
}

static void author(void)
{
  is_str(from(" Joe <joe@Example.ORG>"), "example.org", "name and angle address, lowercased");
  is_str(from(" joe@example.org (Joe)"), "example.org", "plain address with a comment");
  is_str(from(" \"a@evil.test\" <joe@example.org>"), "example.org", "an '@' in the display name does not count");
  is_str(from(" \"x@evil.test\"@example.org"), "example.org", "a quoted local part with '@'");
  is_str(from(" Joe (x@evil.test) <joe@example.org>"), "example.org", "an '@' in a comment does not count");
  is_str(from(" a@one.test, b@two.test"), "one.test", "a list: the first mailbox");
  is_str(from(" \"Doe, Joe\" <joe@example.org>, b@two.test"), "example.org", "a comma in quotes does not split");
  is_str(from(" joe@example.org."), "example.org", "a trailing dot goes");
  is_str(from(" <@relay.test:joe@example.org>"), "example.org", "an obsolete route: the last '@'");
  is_str(from("\n\tJoe\n\t<joe@example.org>"), "example.org", "folded");
  is_str(from(" joe@[192.0.2.1]"), "(none)", "an address literal: no domain to sign for");
  is_str(from(" undisclosed-recipients:;"), "(none)", "no '@': none");
  is_str(from(" joe@exa/mple.org"), "(none)", "a '/' in the domain: none");
  is_str(from(" joe@"), "(none)", "nothing after '@': none");
  is_str(from(" Joe <joe@example.org"), "example.org", "an unclosed '<'");
  is_str(from(" (unclosed comment joe@example.org"), "(none)", "an unclosed comment hides all");
}

static char const *rule(char const *dom, char const *const *lines, int n)
{
  static char buf[512];
  stralloc sa = STRALLOC_ZERO;
  dkim_rule r = DKIM_RULE_ZERO;
  char const *bad = 0;
  unsigned int i;
  int k;
  for (k = 0; k < n; k++) stralloc_catb(&sa, lines[k], strlen(lines[k]) + 1);
  k = dkim_conf_find(&r, sa.s, n, dom, &bad);
  if (k < 0) snprintf(buf, sizeof buf, "bad: %s", bad);
  else if (!k) strcpy(buf, "none");
  else
  {
    snprintf(buf, sizeof buf, "d=%s s=", r.domain);
    for (i = 0; i < r.nsel; i++) { if (i) strcat(buf, ","); strcat(buf, r.sel[i]); }
  }
  dkim_rule_free(&r);
  stralloc_free(&sa);
  return buf;
}

static void conf(void)
{
  char const *l[] = { "example.org:s1", ".example.org:w1", ".sub.example.org:w2", "lists.example.org:s1:example.org",
                      "Multi.Test:R1,e1", "other.test:a" };
  int n = sizeof l / sizeof *l;
  is_str(rule("example.org", l, n), "d=example.org s=s1", "exact");
  is_str(rule("a.example.org", l, n), "d=example.org s=w1", ".domain: a subdomain, signed as the domain");
  is_str(rule("x.sub.example.org", l, n), "d=sub.example.org s=w2", "the longer wildcard wins");
  is_str(rule("lists.example.org", l, n), "d=example.org s=s1", "exact wins over a wildcard; its own DOMAIN");
  is_str(rule("multi.test", l, n), "d=multi.test s=r1,e1", "two selectors, lowercased");
  is_str(rule("sub.other.test", l, n), "none", "a subdomain matches nothing unless a line says so");
  is_str(rule("xexample.org", l, n), "none", "a suffix that is not a subdomain");
  is_str(rule("", l, n), "none", "no domain: none");
  {
    char const *bad[][1] = { { "example.org" }, { "example.org:" }, { "example.org:s1," }, { "example.org:../x" },
      { "exa mple.org:s1" }, { "example.org:a,b,c,d,e" }, { "example.org:s1:" }, { ":s1" }, { "example.org:s1:d:e" },
      { "..example.org:s1" }, { "example.org.:s1" } };
    unsigned int i;
    for (i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      char want[64];
      snprintf(want, sizeof want, "bad: %s", bad[i][0]);
      is_str(rule("example.org", bad[i], 1), want, "malformed line refused: '%s'", bad[i][0]);
    }
  }
  ok(dkim_name_ok("s1", 2) && dkim_name_ok("2026_rsa.x", 10) && !dkim_name_ok("a..b", 4) && !dkim_name_ok(".a", 2)
     && !dkim_name_ok("a.", 2) && !dkim_name_ok("A", 1) && !dkim_name_ok("a/b", 3) && !dkim_name_ok("", 0),
     "names: labels of [a-z0-9_-], no empty label, no '/'");
}

static void scan(void)
{
  dkim_hscan st = DKIM_HSCAN_ZERO;
  size_t hlen = 0, body = 0;
  char const *m = "A: 1\n b\nC: 2\r\n\r\nbody";
  ok(!dkim_head_end(&st, m, 6, 0, &hlen, &body), "an unfinished line: more needed");
  ok(dkim_head_end(&st, m, strlen(m), 0, &hlen, &body) && hlen == 14 && body == 16, "CRLF empty line ends it");
  st = (dkim_hscan)DKIM_HSCAN_ZERO;
  ok(!dkim_head_end(&st, "A: 1\r", 5, 0, &hlen, &body), "a CR last may be half of a CRLF: more needed");
  st = (dkim_hscan)DKIM_HSCAN_ZERO;
  ok(dkim_head_end(&st, "A: 1\nnot a field\n", 17, 0, &hlen, &body) && hlen == 5 && body == 5,
     "a line that is no field starts the body");
  st = (dkim_hscan)DKIM_HSCAN_ZERO;
  ok(dkim_head_end(&st, "A: 1\nB: 2", 9, 1, &hlen, &body) && hlen == 9 && body == 9, "at the end: all header");
  st = (dkim_hscan)DKIM_HSCAN_ZERO;
  ok(dkim_head_end(&st, " x\n", 3, 1, &hlen, &body) && hlen == 0, "a blank first line is no continuation");
  st = (dkim_hscan)DKIM_HSCAN_ZERO;
  ok(dkim_head_end(&st, "From foo\nA: 1\n", 14, 1, &hlen, &body) && hlen == 0, "an mbox From_ line is no field");
  st = (dkim_hscan)DKIM_HSCAN_ZERO;
  ok(dkim_head_end(&st, "Subject  : x\n\n", 14, 1, &hlen, &body) && hlen == 13, "blanks before the colon: a field");
  is_str(hcanon("Subject  : x"), "subject:x", "and canonicalised without them");
}

static char const *hlist(char const *head)
{
  static stralloc h = STRALLOC_ZERO;
  genalloc f = GENALLOC_ZERO;
  dkim_head_fields(&f, head, strlen(head));
  dkim_head_hlist(&h, head, genalloc_s(dkim_field, &f), genalloc_len(dkim_field, &f));
  genalloc_free(dkim_field, &f);
  return h.s;
}

static void fields(void)
{
  is_str(hlist("From: a@b\nX-Other: 1\n"), "from:from:reply-to:subject:to:cc",
    "absent: From, Reply-To, Subject, To, Cc listed anyway (none can be added)");
  is_str(hlist("Subject: x\nfrom: a@b\nFROM: c@d\nDate: now\nList-Id: <l>\n"),
    "from:from:from:reply-to:subject:subject:date:date:to:cc:list-id",
    "two From: listed three times; Date once more than present; List-Id as present");
  is_str(hlist("DKIM-Signature: x\nReceived: y\nFrom: a@b\n"), "from:from:reply-to:subject:to:cc",
    "Received and other signatures are not signed");
}

static void sigfield(void)
{
  dkim_sig g = DKIM_SIG_ZERO;
  unsigned char bh[32] = { 0 }, sig[256];
  stralloc c = STRALLOC_ZERO;
  size_t i, col = 0, longest = 0;
  memset(sig, 0xa5, sizeof sig);
  ok(dkim_sig_start(&g, "rsa-sha256", "example.org", "s1", 1700000000,
     "from:from:reply-to:subject:subject:date:date:message-id:message-id:to:to:cc:cc:mime-version", bh),
     "DKIM-Signature started");
  dkim_canon_header(&c, g.text.s, g.text.len);
  stralloc_0(&c);
  ok(c.len > 3 && !strcmp(c.s + c.len - 4, " b="), "what is hashed ends with an empty b=");
  {
    static char const start[] = "dkim-signature:v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=s1; t=1700000000; h=from:";
    ok(!strncmp(c.s, start, sizeof start - 1), "v, a, c, d, s, t, h in order");
  }
  ok(strstr(c.s, "bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;") != 0, "bh= base64 of the body hash");
  ok(!strstr(c.s, " l=") && !strstr(c.s, " i="), "no l=, no i=");
  ok(dkim_sig_finish(&g, sig, sizeof sig), "finished with a 2048-bit signature");
  for (i = 0; i < g.text.len; i++)
  {
    if (g.text.s[i] == '\n') { if (col > longest) longest = col; col = 0; }
    else col += g.text.s[i] == '\t' ? 8 : 1;
  }
  ok(longest <= 78 && g.text.s[g.text.len - 1] == '\n', "every line within 78 columns, LF-ended (longest %zu)", longest);
  stralloc_free(&c);
  dkim_sig_free(&g);
}

int main(void)
{
  canon();
  rfc8463();
  author();
  conf();
  scan();
  fields();
  sigfield();
  return done_testing();
}
