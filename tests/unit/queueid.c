/* Unit tests for lib/queueid.c: what is an ID, its time, its bucket, its path. */
#include <stdlib.h>
#include <time.h>
#include "tap.h"
#include "queueid.h"

int main(void)
{
  char id[QUEUEID_LEN + 1], hh[3];
  stralloc sa = STRALLOC_ZERO;
  uint64_t v = 1;
  time_t before = time(0);

  ok(queueid_is("00000001deadbeef"), "16 lowercase hex digits");
  ok(queueid_is(QUEUEID_FLUSH), "the zero ID is an ID (the flush line)");
  ok(!queueid_ok(QUEUEID_FLUSH), "but not a message's");
  ok(!queueid_is("00000001DEADBEEF"), "upper case refused");
  ok(!queueid_is("00000001deadbee"), "15 digits refused");
  ok(!queueid_is("00000001deadbeef0"), "17 digits refused");
  ok(!queueid_is("00000001deadbeeg"), "a 'g' refused");
  ok(!queueid_is("../../etc/passwd"), "a path refused");
  ok(!queueid_is(""), "empty refused");
  ok(!queueid_ok(0), "none");
  ok(queueid_hex("00000001deadbeef M x"), "hex: the first 16 bytes of a record");
  ok(!queueid_hex("0000001deadbeef "), "hex: a 15-digit one refused");
  ok(!queueid_hex("0000"), "hex: a short string stops at its NUL");

  ok(queueid_value("00000001deadbeef", &v) && v == 0x00000001deadbeefULL, "value");
  ok(!queueid_value(QUEUEID_FLUSH, &v) && v == 0, "zero: no value");
  ok(!queueid_value("ffffffffffffffff0", &v) && v == 0, "too long: no value");
  ok(queueid_value("ffffffffffffffff", &v) && v == 0xffffffffffffffffULL, "the largest");
  is_int(queueid_time("6b000000deadbeef"), 0x6b000000L, "time: the first 8 digits");

  queueid_new(id);
  ok(queueid_ok(id), "a new ID is one (%s)", id);
  ok(queueid_time(id) >= (uint64_t)before && queueid_time(id) <= (uint64_t)time(0), "its time is now");

  queueid_bucket(hh, "00000001deadbeef");
  is_str(hh, "ef", "bucket: the last two digits");

  setenv("TERN_HOME", "/x/home", 1);
  ok(queueid_path(&sa, "mess", "00000001deadbeef"), "path");
  is_str(sa.s, "/x/home/queue/mess/ef/00000001deadbeef", "queue/DIR/HH/ID");
  ok(queueid_path(&sa, "hold", "00000001deadbe12"), "path in hold");
  is_str(sa.s, "/x/home/queue/hold/12/00000001deadbe12", "queue/hold/HH/ID");
  ok(!queueid_path(&sa, "mess", "e"), "a one-character name refused");
  stralloc_free(&sa);
  return done_testing();
}
