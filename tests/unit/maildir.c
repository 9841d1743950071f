/* Unit tests for lib/maildir.c: unique names and delivery into tmp/ then new/. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include <skalibs/djbunix.h>
#include "maildir.h"

static char dir[] = "/tmp/tern-maildir-XXXXXX";

static void cleanup(void)
{
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
}

static int count(char const *sub)
{
  char p[300];
  DIR *d;
  struct dirent *de;
  int n = 0;
  snprintf(p, sizeof p, "%s/md/%s", dir, sub);
  d = opendir(p);
  if (!d) return -1;
  while ((de = readdir(d))) if (de->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

int main(void)
{
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO, name = STRALLOC_ZERO, got = STRALLOC_ZERO;
  char p[300], md[300], src[300];
  char const *what;
  int fd;
  if (!mkdtemp(dir)) return 111;
  atexit(&cleanup);
  ok(maildir_uniq(&a) && maildir_uniq(&b) && strcmp(a.s, b.s), "two names differ");
  ok(strstr(a.s, ".M") && strchr(a.s, 'P') && strchr(a.s, 'Q'), "name has M, P, Q parts: %s", a.s);
  ok(!strchr(a.s, '/') && !strchr(a.s, ':'), "no / or : in the name");
  snprintf(src, sizeof src, "%s/src", dir);
  fd = open(src, O_RDWR | O_CREAT, 0600);
  ok(write(fd, "Subject: x\n\nbody\nTRAILER", 24) == 24, "source written");
  snprintf(md, sizeof md, "%s/md/", dir);
  is_int(maildir_deliver(md, "Delivered-To: a@b\n", 18, fd, 17, &name, &what), -1, "missing Maildir fails");
  is_int(errno, ENOENT, "with ENOENT");
  mkdir(md, 0700);
  snprintf(p, sizeof p, "%s/md/tmp", dir); mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/md/new", dir); mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/md/cur", dir); mkdir(p, 0700);
  is_int(maildir_deliver(md, "Delivered-To: a@b\n", 18, fd, 17, &name, &what), 1, "delivered");
  is_int(count("new"), 1, "one file in new/");
  is_int(count("tmp"), 0, "tmp/ empty");
  snprintf(p, sizeof p, "%s/md/new/%s", dir, name.s);
  {
    int r = openreadfileclose(p, &got, 0);
    ok(r && got.len == 35 && !memcmp(got.s, "Delivered-To: a@b\nSubject: x\n\nbody\n", 35), "header then exactly msglen bytes");
  }
  is_int(maildir_deliver(md, "", 0, fd, 100, &name, &what), -1, "source shorter than msglen fails");
  is_int(count("tmp"), 0, "failed delivery leaves nothing in tmp/");
  is_int(count("new"), 1, "nor in new/");
  close(fd);
  stralloc_free(&a); stralloc_free(&b); stralloc_free(&name); stralloc_free(&got);
  return done_testing();
}
