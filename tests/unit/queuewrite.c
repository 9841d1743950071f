/* Unit tests for lib/queuewrite.c: proposed IDs, the directory checks, the commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "qexit.h"
#include "queuewrite.h"

static char top[] = "/tmp/tern-queuewrite-XXXXXX";
static char home[300];

static void cleanup(void)
{
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", top);
  if (system(cmd)) {}
}

static char *at(char const *rel)
{
  static char p[4][400];
  static int i;
  i = (i + 1) % 4;
  snprintf(p[i], sizeof p[i], "%s/%s", home, rel);
  return p[i];
}

static int entries(char const *rel)
{
  DIR *d = opendir(at(rel));
  struct dirent *de;
  int n = 0;
  if (!d) return -1;
  while ((de = readdir(d))) if (de->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* The whole sequence; returns the first nonzero code, 0 when committed. */
static int queue_one(queuewrite *q, char const *proposed, char const *msg)
{
  static char const env[] = "Fa@b.test\0Tc@d.test\0";
  int code = queuewrite_open(q, home);
  if (!code) code = queuewrite_create(q, proposed);
  if (!code) code = queuewrite_put(q, msg, strlen(msg));
  if (!code) code = queuewrite_commit(q, env, sizeof env);
  return code;
}

static void test_ids(void)
{
  uint64_t now = 0x6b000000;
  ok(queuewrite_id_ok("00000001deadbeef", 0, now), "lax: any 16 lowercase hex digits");
  ok(!queuewrite_id_ok("0000000000000000", 0, now), "all zero refused (tern-send ignores it)");
  ok(!queuewrite_id_ok("00000001DEADBEEF", 0, now), "upper case refused");
  ok(!queuewrite_id_ok("00000001deadbee", 0, now), "15 digits refused");
  ok(!queuewrite_id_ok("../../etc/passwd", 0, now), "a path refused");
  ok(!queuewrite_id_ok(0, 0, now), "none");
  ok(queuewrite_id_ok("6b000000deadbeef", 1, now), "strict: the current second");
  ok(queuewrite_id_ok("6affffa0deadbeef", 1, now), "strict: a minute and a half old");
  ok(!queuewrite_id_ok("00000001deadbeef", 1, now), "strict: from 1970 refused");
  ok(!queuewrite_id_ok("6affd000deadbeef", 1, now), "strict: older than QUEUEWRITE_ID_MAXAGE refused");
  ok(!queuewrite_id_ok("6b001000deadbeef", 1, now), "strict: ahead of the clock refused");
}

static void test_commit(void)
{
  queuewrite q = QUEUEWRITE_ZERO;
  stralloc sa = STRALLOC_ZERO;
  char id[QUEUEID_LEN + 1], path[100];
  is_int(queue_one(&q, "6b000000000000ab", "Subject: x\n\nhi\n"), 0, "queued");
  is_str(q.id, "6b000000000000ab", "under the proposed ID");
  memcpy(id, q.id, sizeof id);
  queuewrite_close(&q);
  snprintf(path, sizeof path, "queue/mess/ab/%s", id);
  ok(openreadfileclose(at(path), &sa, 0) && sa.len == 15 + 21 + 21
     && !memcmp(sa.s, "Subject: x\n\nhi\nFa@b.test\0Tc@d.test\0\0", 36)
     && !memcmp(sa.s + sa.len - 21, "00000000000000000015\n", 21), "message, envelope, trailer");
  is_int(entries("queue/tmp"), 0, "nothing in tmp/");
  is_int(queue_one(&q, "6b000000000000ab", "again\n"), 0, "the same ID proposed again: queued");
  ok(strcmp(q.id, "6b000000000000ab") != 0, "under another ID (%s)", q.id);
  queuewrite_close(&q);
  stralloc_free(&sa);
}

static void refused(char const *setup_what, char const *want)
{
  queuewrite q = QUEUEWRITE_ZERO;
  int before = entries("queue/mess/cd"), code = queue_one(&q, "6b000000000000cd", "m\n");
  ok(code == QEXIT_QUEUE && errno == 0 && q.what && strstr(q.what, want), "%s: 62, \"%s\"", setup_what, q.what ? q.what : "");
  queuewrite_close(&q);
  is_int(entries("queue/mess/cd"), before, "%s: nothing committed", setup_what);
}

static void test_dirs(void)
{
  char other[400];
  snprintf(other, sizeof other, "%s/other", top);
  mkdir(other, 0700);
  mkdir(at("queue/mess/cd"), 0750);

  chmod(at("queue/tmp"), 0777);
  refused("tmp/ anyone may write", "queue/tmp/: others may write it");
  chmod(at("queue/tmp"), 0770);
  refused("tmp/ the group may write", "queue/tmp/: others may write it");
  chmod(at("queue/tmp"), 0700);

  rename(at("queue/tmp"), at("queue/tmp.real"));
  symlink(other, at("queue/tmp"));
  refused("tmp/ a symbolic link", "queue/tmp/: a symbolic link or not a directory");
  is_int(entries("../other"), 0, "nothing written where the link points");
  unlink(at("queue/tmp"));
  rename(at("queue/tmp.real"), at("queue/tmp"));

  chmod(at("queue/mess/cd"), 0757);
  refused("mess/HH/ anyone may write", "queue/mess/HH/: others may write it");
  chmod(at("queue/mess/cd"), 0770);
  {
    queuewrite q = QUEUEWRITE_ZERO;
    is_int(queue_one(&q, "6b000000000000cd", "m\n"), 0, "mess/HH/ our group may write: queued");
    queuewrite_close(&q);
  }
  rename(at("queue/mess/cd"), at("queue/mess/cd.real"));
  symlink(other, at("queue/mess/cd"));
  {
    queuewrite q = QUEUEWRITE_ZERO;
    int code = queue_one(&q, "6b000000000000cd", "m\n");
    ok(code == QEXIT_QUEUE && q.what && strstr(q.what, "queue/mess/HH/: a symbolic link"), "mess/HH/ a symbolic link: 62 (%s)", q.what ? q.what : "");
    queuewrite_close(&q);
  }
  is_int(entries("../other"), 0, "nothing linked where it points");
  is_int(entries("queue/tmp"), 0, "nothing left in tmp/");
  unlink(at("queue/mess/cd"));
  rename(at("queue/mess/cd.real"), at("queue/mess/cd"));

  rename(at("queue"), at("queue.real"));
  symlink(at("queue.real"), at("queue"));
  refused("queue/ a symbolic link", "queue/: a symbolic link or not a directory");
  unlink(at("queue"));
  rename(at("queue.real"), at("queue"));
  {
    queuewrite q = QUEUEWRITE_ZERO;
    is_int(queuewrite_open(&q, "/nonexistent/tern"), QEXIT_HOME, "no home: 61");
    queuewrite_close(&q);
  }
}

int main(void)
{
  if (!mkdtemp(top)) return 111;
  atexit(&cleanup);
  umask(027);
  snprintf(home, sizeof home, "%s/home", top);
  mkdir(home, 0755);
  mkdir(at("queue"), 0750);
  mkdir(at("queue/tmp"), 0700);
  mkdir(at("queue/mess"), 0750);
  test_ids();
  test_commit();
  test_dirs();
  return done_testing();
}
