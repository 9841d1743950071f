/* Unit tests for the scheduler's and tern-inject's parsers: state file
 * records (lib/statefile.c), RFC 3463 status extraction (send_bounce.c),
 * address lists and header scan (queue/inject_*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "statefile.h"
#include "../../send/send.h"
#include "../../queue/inject.h"

static char dir[] = "/tmp/tern-state-XXXXXX";

static void cleanup(void)
{
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
}

static void test_statefile(void)
{
  stralloc rec = STRALLOC_ZERO, texts = STRALLOC_ZERO;
  staterc r[3];
  char path[300];
  int bounced;
  snprintf(path, sizeof path, "%s/ab/0123", dir);
  is_int(statefile_read(path, r, 3, &texts, &bounced), 0, "no state file");
  ok(statefile_fmt(&rec, 'Z', 1, 100, "451 later\r\nQUIT"), "format");
  ok(rec.len == 24 && !memcmp(rec.s, "Z 1 100 451 later??QUIT\n", 24), "CR LF neutralised");
  statefile_fmt(&rec, 'K', 0, 101, "250 ok");
  statefile_fmt(&rec, 'Z', 1, 102, "452 full");
  statefile_fmt(&rec, 'D', 7, 103, "beyond the envelope");
  is_int(statefile_append(path, rec.s, rec.len), 1, "appended, bucket created");
  is_int(statefile_append(path, "D 2 104 550 no\nK 1 1", 20), 1, "append with a torn last line");
  is_int(statefile_read(path, r, 3, &texts, &bounced), 1, "read back");
  ok(r[0].status == 'K' && r[0].last == 101, "recipient 0 delivered");
  ok(r[1].status == 'Z' && r[1].tries == 2 && !strcmp(texts.s + r[1].text, "452 full"), "recipient 1: two tries, last text");
  ok(r[2].status == 'D' && !strcmp(texts.s + r[2].text, "550 no"), "recipient 2 failed");
  ok(!bounced, "not bounced");
  statefile_append(path, "\nB 0 105 queued\n", 16);
  statefile_read(path, r, 3, &texts, &bounced);
  ok(bounced && r[1].status == 'Z', "B record seen; torn line ignored");
  stralloc_free(&rec); stralloc_free(&texts);
}

static void test_status(void)
{
  char st[16];
  ok(bounce_status(st, "mx said: 550 5.1.1 no such user") && !strcmp(st, "5.1.1"), "5.1.1 found");
  ok(bounce_status(st, "4.4.7 expired; last: 451 4.3.0 x") && !strcmp(st, "4.4.7"), "first status wins");
  ok(!bounce_status(st, "version 15.1.12 of something"), "a version number is not a status");
  ok(!bounce_status(st, "2.0.0 ok"), "2.x.x is not a failure status");
  ok(!bounce_status(st, "5.1111.1"), "overlong subject refused");
}

static void test_addrlist(void)
{
  stralloc o = STRALLOC_ZERO;
  char const *s = "\"Doe, J\" <j@x.test>, (c) plain@y.test, grp: a@z.test, b@z.test;, <@r1,@r2:route@w.test>";
  static char const want[] = "j@x.test\0plain@y.test\0a@z.test\0b@z.test\0route@w.test";
  is_int(inject_addrlist(&o, s, strlen(s)), 5, "five addresses");
  ok(o.len == sizeof want && !memcmp(o.s, want, sizeof want),
     "display names, comments, groups, routes removed");
  o.len = 0;
  is_int(inject_addrlist(&o, " ", 1), 0, "empty list");
  {
    /* domain literals are atoms: their colons are not group syntax */
    char const *l = "u@[IPv6:::1], Bob <b@[IPv6:2001:db8::1]>, g: c@[127.0.0.1], d@[ IPv6:::2 ];, <@[IPv6:::3]:r@w.test>, [Ext] E <e@x.test>";
    static char const lw[] = "u@[IPv6:::1]\0b@[IPv6:2001:db8::1]\0c@[127.0.0.1]\0d@[IPv6:::2]\0r@w.test\0e@x.test";
    o.len = 0;
    is_int(inject_addrlist(&o, l, strlen(l)), 6, "six addresses with literals");
    ok(o.len == sizeof lw && !memcmp(o.s, lw, sizeof lw), "IPv6 literals kept whole, in groups and routes too");
    o.len = 0;
    is_int(inject_addrlist(&o, "To: x@[IPv6:::1", 15), 1, "an unclosed literal ends with the field");
  }
  stralloc_free(&o);
}

static void test_scan(void)
{
  injmsg m = { .rcpts = STRALLOC_ZERO, .header = STRALLOC_ZERO };
  char const *msg = "To: a@x\nBcc: secret@x,\n  more@x\nDate: now\nSubject: s\n\nTo: not@header\n";
  ok(inject_scan(&m, msg, strlen(msg), 1) == 1, "scanned");
  ok(m.rcpts.len == 20 && !memcmp(m.rcpts.s, "a@x\0secret@x\0more@x\0", 20), "To and folded Bcc collected");
  ok(m.header.len == 29 && !memcmp(m.header.s, "To: a@x\nDate: now\nSubject: s\n", 29), "Bcc and its continuation removed");
  ok(m.has_date && !m.has_from && !m.has_msgid, "present headers noted");
  ok(!strcmp(msg + m.body, "To: not@header\n"), "body starts after the empty line");
  msg = "no header here\nat all\n";
  inject_scan(&m, msg, strlen(msg), 0);
  ok(m.body == 0 && !m.header.len, "headerless input is all body");
  stralloc_free(&m.rcpts); stralloc_free(&m.header);
}

int main(void)
{
  if (!mkdtemp(dir)) return 111;
  atexit(&cleanup);
  test_statefile();
  test_status();
  test_addrlist();
  test_scan();
  return done_testing();
}
