/* cdbwrite.c: unit tests for lib/cdbwrite (atomic cdb replacement). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/cdb.h>
#include "cdbwrite.h"
#include "tap.h"

static int lookup(char const *path, char const *key, char *out, size_t max)
{
  cdb c = CDB_ZERO;
  cdb_data d;
  int r;
  if (!cdb_init(&c, path)) return -1;
  r = cdb_find(&c, &d, key, strlen(key));
  if (r == 1)
  {
    size_t n = d.len < max - 1 ? d.len : max - 1;
    memcpy(out, d.s, n);
    out[n] = 0;
  }
  cdb_free(&c);
  return r;
}

int main(void)
{
  char dir[] = "/tmp/tern-cdbwrite-XXXXXX";
  char target[64], tmp[64], out[64];
  cdbwrite w = CDBWRITE_ZERO;
  struct stat st;
  if (!mkdtemp(dir)) return 111;
  snprintf(target, sizeof target, "%s/t.cdb", dir);
  snprintf(tmp, sizeof tmp, "%s/t.tmp", dir);

  ok(cdbwrite_start(&w, target, tmp, 0600), "start");
  ok(cdbwrite_add(&w, "k1", 2, "one", 3) && cdbwrite_add(&w, "k1", 2, "dup", 3), "add");
  ok(cdbwrite_finish(&w), "finish");
  is_int(lookup(target, "k1", out, sizeof out), 1, "key found");
  is_str(out, "one", "first record of a repeated key wins");
  is_int(lookup(target, "k2", out, sizeof out), 0, "absent key");
  ok(access(tmp, F_OK) < 0 && errno == ENOENT, "tmp renamed away");
  ok(stat(target, &st) == 0 && (st.st_mode & 0777) == 0600, "mode exactly 0600");

  ok(cdbwrite_start(&w, target, tmp, 0644), "second start");
  ok(cdbwrite_add(&w, "k1", 2, "new", 3), "second add");
  cdbwrite_abort(&w);
  cdbwrite_abort(&w);
  is_int(lookup(target, "k1", out, sizeof out), 1, "after abort: old table still there");
  is_str(out, "one", "after abort: old content");
  ok(access(tmp, F_OK) < 0, "after abort: tmp removed");

  {
    char baddir[80];
    snprintf(baddir, sizeof baddir, "%s/nodir/t.tmp", dir);
    ok(!cdbwrite_start(&w, target, baddir, 0644), "start fails in a missing directory");
  }
  {
    char other[80];
    snprintf(other, sizeof other, "%s/nodir/t.cdb", dir);
    ok(cdbwrite_start(&w, other, tmp, 0644) && cdbwrite_add(&w, "a", 1, "b", 1), "start for an impossible target");
    ok(!cdbwrite_finish(&w), "finish fails when rename fails");
    ok(access(tmp, F_OK) < 0, "failed finish removes tmp");
    is_int(lookup(target, "k1", out, sizeof out), 1, "failed finish: other table untouched");
  }
  unlink(target);
  rmdir(dir);
  return done_testing();
}
